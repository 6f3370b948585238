"""Groups (社群) in Debian Chromium at iPhone 13 size: alice shares her video into 王家村 with a
note; erin, in 王家村 but nobody's friend, sees it arrive on the group's page and on her tab bar,
opens it, watches and likes it; alice's stats count the view and the like through the share."""

import pytest

from tests.fixtures.personas import api_session
from tests.fixtures.servers import screenshot, signed_in_page

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NOTE = "这是我们村的老王 <b>真的</b>"


@pytest.fixture
def village(site):
    """seed_demo's personas as app users, with their groups as sign-in imports them."""
    from django.core.management import call_command

    from miniapp.accounts.models import Group
    from miniapp.videos.models import Video

    call_command("seed_demo", verbosity=0)
    dance = Video.objects.get(title="广场舞大赛", author__username="alice")
    return Group.objects.get(name="王家村"), dance


def share_into(page, group: str, note: str) -> None:
    page.locator(".slide").first.locator(".action-share").click()
    sheet = page.locator("#share-sheet")
    sheet.locator('[data-action="friends"]').click()
    sheet.locator(".group-picker label", has_text=group).click()
    sheet.locator("textarea[name=note]").fill(note)
    screenshot(page, "share-sheet-groups-zh-CN")
    sheet.locator(".sheet-friends [type=submit]").click()
    sheet.wait_for(state="hidden")


def badge_history(page) -> None:
    """Record every text the page's 社群 badge shows (in window.badgeShown), to see it go up
    even where a read on another page clears it again at once."""
    page.evaluate(
        """() => {
            const badge = document.querySelector(".tab-badge");
            window.badgeShown = [];
            new MutationObserver(() => window.badgeShown.push(badge.hidden ? "" : badge.textContent))
                .observe(badge, { attributes: true, childList: true, characterData: true, subtree: true });
        }"""
    )


def test_a_share_into_a_group_reaches_a_member_who_is_no_friend(site, village, phone):
    from miniapp.accounts.models import Friendship, User

    group, dance = village
    assert not Friendship.objects.filter(user__username="alice", friend__username="erin").exists()

    erin_phone = phone()
    elsewhere = signed_in_page(erin_phone, site, "erin", "/me/")
    elsewhere.wait_for_function("document.documentElement.dataset.socket === 'open'")
    assert elsewhere.locator(".tabbar .tab-badge").is_hidden()
    badge_history(elsewhere)
    chat = erin_phone.new_page()
    chat.goto(f"{site}/groups/{group.pk}/")
    chat.wait_for_function("document.documentElement.dataset.socket === 'open'")
    assert group.name in chat.locator(".chat-topbar h1").inner_text()

    alice = signed_in_page(phone(), site, "alice", f"/v/{dance.pk}/")
    share_into(alice, group.name, NOTE)
    alice.locator(".feed-toast", has_text=group.name).wait_for()

    # Live on erin's group page, at the bottom, the note as text and not markup.
    card = chat.locator(".post", has_text=dance.title)
    card.wait_for()
    assert card.locator(".post-note").inner_text() == NOTE
    assert card.locator(".post-note b").count() == 0
    assert "alice" in card.locator(".post-author").inner_text()
    chat.wait_for_function("innerHeight + scrollY >= document.documentElement.scrollHeight - 48")
    # On her other page the badge went up, and her group page, which had it on screen, read it.
    elsewhere.wait_for_function("window.badgeShown.includes('1')")
    elsewhere.wait_for_function("document.querySelector('.tab-badge').hidden")

    # She opens it: the share link; she watches (a view is counted after two seconds) and likes it.
    with chat.expect_response(lambda response: "/views/" in response.url and response.ok, timeout=20_000):
        card.locator(".post-card").click()
        chat.wait_for_url(f"**/v/{dance.pk}/?s=*")
    slide = chat.locator(".slide").first
    assert NOTE in slide.locator(".slide-shared").inner_text()
    slide.locator(".action-like").click()
    chat.wait_for_function("document.querySelector('.slide .action-like').getAttribute('aria-pressed') === 'true'")
    chat.wait_for_load_state("networkidle")

    stats = api_session(User.objects.get(username="alice")).get(f"{site}/api/videos/{dance.pk}/stats/", timeout=10)
    assert stats.status_code == 200, stats.text
    assert stats.json()["views_via_shares"] == 1
    assert stats.json()["likes_via_shares"] == 1
    # Back in the group, the card says so: one like, one person watched through it.
    chat.goto(f"{site}/groups/{group.pk}/")
    card = chat.locator(".post", has_text=dance.title)
    assert card.locator(".post-likes").inner_text().endswith(str(dance.like_count + 1))
    assert card.locator(".post-views").is_visible() and "1" in card.locator(".post-views").inner_text()
    screenshot(chat, "group-watched-zh-CN")


def share_over_http(site, user, video, group, note: str) -> None:
    """A share into `group` through the API, as the share sheet sends it: the server that
    makes it pushes it to the members' sockets (this process's channel layer reaches none)."""
    answer = api_session(user).post(
        f"{site}/api/videos/{video.pk}/shares/", json={"to": [], "groups": [group.pk], "note": note}, timeout=10
    )
    assert answer.status_code == 201, answer.text


def posters_shown(page) -> None:
    """Every poster on screen has loaded (the ones further up load as they come into view)."""
    page.wait_for_function(
        """() => [...document.querySelectorAll(".post-poster img")]
            .filter((img) => img.getBoundingClientRect().bottom > 0)
            .every((img) => img.complete && img.naturalWidth > 0)"""
    )


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_the_pages_with_posts_and_one_arriving_below_the_screen(site, village, phone, locale):
    """/groups/ and 王家村's page with four posts (screenshots), then a post arriving while erin
    reads further up: a "1 new message" pill, her badge counts it until she taps the pill."""
    from datetime import timedelta

    from django.utils import timezone

    from miniapp.accounts.models import User
    from miniapp.engagement.models import Activity
    from miniapp.videos.models import Video

    group, dance = village
    people = User.objects.in_bulk(["alice", "bob", "carol", "erin"], field_name="username")
    others = list(Video.objects.exclude(pk=dance.pk).order_by("pk"))
    posts = [  # who, what, the note, how long ago
        ("bob", others[0], "", timedelta(days=1, hours=2)),
        ("alice", dance, "这是我们村的老王", timedelta(hours=3)),
        ("erin", others[1], "好看！", timedelta(minutes=58)),
        ("carol", others[2], "赶集的时候拍的，大家看看认不认识这是谁家的孩子", timedelta(minutes=2)),
    ]

    for name, video, note, _ in posts:
        share_over_http(site, people[name], video, group, note)
    for post, (_, _, _, ago) in zip(Activity.objects.filter(group=group).order_by("pk"), posts, strict=True):
        Activity.objects.filter(pk=post.pk).update(created=timezone.now() - ago)

    page = signed_in_page(phone(locale=locale), site, "erin", "/groups/")
    row = page.locator(".group-row", has_text=group.name)
    unread = api_session(people["erin"]).get(f"{site}/api/groups/", timeout=10).json()["unread"]
    assert unread >= 3
    assert row.locator(".unread-badge").inner_text() == str(unread)
    assert page.locator(".tabbar .tab-badge").inner_text() == str(unread)
    assert row.locator(".group-last").inner_text() == f"carol: {posts[-1][2]}"
    shot = screenshot(page, f"groups-{locale}")
    assert shot.stat().st_size > 10_000

    row.locator("a").click()
    page.wait_for_url(f"**/groups/{group.pk}/")
    page.locator(".post").nth(3).wait_for()
    posters_shown(page)
    assert page.locator(".post.is-mine").count() == 1
    page.wait_for_function("document.querySelector('.tab-badge').hidden")  # read on opening
    screenshot(page, f"group-{locale}")
    page.mouse.wheel(0, -500)  # the earlier posts: erin's own on the right, a day's time line
    page.wait_for_function("scrollY < document.documentElement.scrollHeight - innerHeight - 400")
    posters_shown(page)
    screenshot(page, f"group-earlier-{locale}")

    share_over_http(site, people["bob"], dance, group, "再看一遍")
    pill = page.locator(".chat-new")
    pill.wait_for()
    assert "1" in pill.inner_text()
    assert page.locator(".tab-badge").inner_text() == "1"  # not seen yet
    screenshot(page, f"group-new-below-{locale}")
    pill.click()
    page.locator(".post", has_text="再看一遍").wait_for()
    page.wait_for_function("innerHeight + scrollY >= document.documentElement.scrollHeight - 48")
    assert pill.is_hidden()
    page.wait_for_function("document.querySelector('.tab-badge').hidden")  # seen: read


@pytest.fixture
def small_pages(django_db_setup, transactional_db, settings, identities, media_dir, tmp_path):
    """The app served with two posts a page, so that a group's older posts come in pages."""
    from tests.fixtures.personas import point_app_at
    from tests.fixtures.servers import start_server, stop_server

    server = start_server(media_root=media_dir, log=tmp_path / "daphne.log", extra_env={"GROUP_PAGE_SIZE": "2"})
    settings.MEDIA_ROOT = media_dir
    point_app_at(settings, server.url)
    yield server.url
    stop_server(server)


def test_older_posts_load_on_scrolling_to_the_top_where_the_reader_was(small_pages, phone):
    from django.core.management import call_command

    from miniapp.accounts.models import Group, User
    from miniapp.videos.models import Video

    site = small_pages
    call_command("seed_demo", verbosity=0)
    group = Group.objects.get(name="王家村")
    alice = User.objects.get(username="alice")
    videos = list(Video.objects.order_by("pk")[:5])
    for number, video in enumerate(videos, 1):
        share_over_http(site, alice, video, group, f"第{number}条")

    page = signed_in_page(phone(), site, "erin", f"/groups/{group.pk}/")
    notes = page.locator(".post-note")
    notes.nth(1).wait_for()
    assert notes.all_inner_texts()[-2:] == ["第4条", "第5条"]  # the newest page, opened at the bottom
    page.wait_for_function("innerHeight + scrollY >= document.documentElement.scrollHeight - 48")
    while notes.count() < 5:
        first, shown = notes.first.element_handle(), notes.count()
        page.mouse.wheel(0, -10_000)  # to the top
        page.wait_for_function(f"document.querySelectorAll('.post-note').length > {shown}")
        # The older posts came in above, and the reader still sees what was on top (two
        # cards are taller than the screen: without keeping the place it would be pushed off).
        box = first.bounding_box()
        assert 0 < box["y"] < page.viewport_size["height"] - box["height"], box
    assert notes.all_inner_texts() == [f"第{number}条" for number in range(1, 6)]  # oldest first, no repeats
