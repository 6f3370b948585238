"""A video a moderator takes down leaves an open feed at once, over the page's socket: the one
playing stays with a notice, another one goes."""

import pytest

from tests.fixtures.servers import hide_in_admin, sign_in_to_admin, signed_in_page

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_hidden_video_leaves_the_feed_that_shows_it(site, phone, chromium):
    from django.core.management import call_command

    from miniapp.videos.models import Video

    call_command("seed_demo", verbosity=0)
    playing, *others = Video.objects.order_by("pk")
    alice = signed_in_page(phone(), site, "alice", f"/v/{playing.pk}/")
    alice.wait_for_function("document.documentElement.dataset.socket === 'open'")
    alice.wait_for_function("document.querySelector('.slide video').currentTime > 0.1")
    later = alice.locator(".slide").nth(2)
    later_id = int(later.get_attribute("data-id"))
    assert later_id != playing.pk

    desk = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    try:
        admin = desk.new_page()
        sign_in_to_admin(admin, site)
        hide_in_admin(admin, site, playing)
        first = alice.locator(".slide").first
        first.locator(".slide-gone").wait_for()
        assert "is-gone" in first.get_attribute("class")
        assert first.locator("video").get_attribute("src") is None
        hide_in_admin(admin, site, Video.objects.get(pk=later_id))
        alice.locator(f'.slide[data-id="{later_id}"]').wait_for(state="detached")
    finally:
        desk.close()
