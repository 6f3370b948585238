"""A busy live room in Debian Chromium at iPhone 13 size: three phones in seed_demo's live (carol's),
taps on two of them, and the third sees the hearts float and the count reach the exact sum; the
viewers count all three; a comment shows on all three. bob's friend alice sees "bob 给 carol 的直播点赞"
arrive in 好友动态 and opens the room from it."""

import pytest

from tests.fixtures.servers import screenshot, signed_in_page

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Counts the hearts that float on a page (each is removed when its animation ends).
COUNT_HEARTS = """() => {
    window.heartsSeen = 0;
    new MutationObserver((changes) => {
        for (const change of changes) window.heartsSeen += [...change.addedNodes].filter(
            (node) => node.classList && node.classList.contains('live-heart')).length;
    }).observe(document.querySelector('.live-hearts'), {childList: true});
}"""


@pytest.fixture
def on_air(site):
    from django.core.management import call_command

    from miniapp.lives.models import Live

    call_command("seed_demo", verbosity=0)
    return Live.objects.get(status=Live.Status.LIVE)


def test_three_phones_in_one_room_see_one_count_and_friends_hear_of_it(site, on_air, phone):
    room = f"/live/{on_air.pk}/"
    alice = signed_in_page(phone(), site, "alice", "/friends/")  # bob's friend
    bob, erin, dave = (signed_in_page(phone(), site, name, room) for name in ("bob", "erin", "dave"))
    for page in (bob, erin, dave):
        page.locator(".live-viewers", has_text="3 人在看").wait_for(timeout=10_000)
    dave.evaluate(COUNT_HEARTS)

    for _ in range(7):
        bob.locator(".live-like").click()
    for _ in range(5):
        erin.locator(".live-like").click()
    erin.locator(".live-video").dblclick()  # a double tap on the video is a like too

    for page in (bob, erin, dave):
        page.locator(".live-likes-count", has_text="13").wait_for(timeout=10_000)
    assert dave.evaluate("window.heartsSeen") >= 2  # the others' taps float on dave's screen
    assert dave.locator(".live-likers img").count() == 2

    from miniapp.lives.models import Live

    assert Live.objects.get(pk=on_air.pk).likes == 13

    bob.locator(".live-say-text").fill("<b>外婆的饺子</b>")  # a comment reaches all three, as text
    bob.locator(".live-say-send").click()
    for page in (bob, erin, dave):
        page.locator(".live-comment", has_text="<b>外婆的饺子</b>").wait_for(timeout=10_000)
    assert dave.locator(".live-comment b").count() == 0
    screenshot(dave, "live-room-busy-zh-CN")

    entry = alice.locator(".activity", has_text="bob 给 carol 的直播点赞")
    entry.wait_for(timeout=10_000)
    assert alice.locator(".activity", has_text="erin").count() == 0  # erin is not her friend
    entry.click()
    alice.wait_for_url(f"**{room}")
    alice.locator(".live-viewers", has_text="4 人在看").wait_for(timeout=10_000)
