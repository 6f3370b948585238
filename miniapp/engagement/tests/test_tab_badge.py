"""The tab bar's 社群 badge: the signed-in user's unread group posts on every page, "99+" past 99."""

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string

from miniapp.engagement import services
from tests.fixtures.factories import make_video
from tests.fixtures.personas import signed_in_client

pytestmark = pytest.mark.django_db

BADGE = re.compile(r'<span class="tab-badge"( hidden)?>([^<]*)</span>')


def badge(html: str) -> tuple[bool, str]:
    """(shown, text) of the page's badge."""
    hidden, text = BADGE.search(html).groups()
    return hidden is None, text


def test_it_counts_posts_of_others_on_every_page(users, groups):
    video = make_video(users["carol"], title="老王的葡萄")
    for sharer in ("alice", "bob"):
        (post,) = services.group_posts_create(sharer=users[sharer], video=video, groups=[groups["王家村"]], note="")
    erin = signed_in_client(users["erin"])
    for url in ("/", "/friends/", "/me/", "/groups/"):
        html = erin.get(url).content.decode()
        assert badge(html) == (True, "2"), url
        # The count includes the posts up to here: the page counts a replayed post only past it.
        assert f'data-position="{post.pk}"' in html, url


@pytest.mark.parametrize(
    ("unread", "shown"), [(0, (False, "0")), (7, (True, "7")), (99, (True, "99")), (100, (True, "99+"))]
)
def test_100_reads_99_plus_and_0_hides_it(users, unread, shown):
    html = render_to_string("miniapp/tabbar.html", {"user": users["erin"], "tab_unread": unread})
    assert badge(html) == shown
    assert "engagement/tabbar.js" in html


def test_signed_out_there_is_no_badge_script(db):
    html = render_to_string("miniapp/tabbar.html", {"user": AnonymousUser(), "tab_unread": 0})
    assert badge(html) == (False, "0")
    assert "engagement/tabbar.js" not in html
