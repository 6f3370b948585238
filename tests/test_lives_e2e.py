"""A live room in Debian Chromium at iPhone 13 size: seed_demo's live (one of carol's clips played
as live by the server's runner) opens from its link for bob, his player moves on (hls.js over
the app's HLS), carol ends it from her room, and bob's room says so and offers the replay."""

import re

import pytest

from tests.fixtures.servers import screenshot, signed_in_page

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def on_air(site):
    from django.core.management import call_command

    from miniapp.lives.models import Live

    call_command("seed_demo", verbosity=0)
    return Live.objects.get(status=Live.Status.LIVE)


def advancing(page, timeout: float = 30_000) -> float:
    """Wait until the room's video has played a couple of seconds; its currentTime then."""
    page.wait_for_function(
        """() => {
            const video = document.querySelector('.live-video');
            window.firstTime ??= video.currentTime > 0 ? video.currentTime : undefined;
            return window.firstTime !== undefined && video.currentTime > window.firstTime + 2
                && video.readyState >= 2;
        }""",
        timeout=timeout,
    )
    return page.evaluate("document.querySelector('.live-video').currentTime")


def test_a_viewer_watches_a_live_until_its_host_ends_it(site, on_air, phone):
    bob = signed_in_page(phone(), site, "bob", f"/live/{on_air.pk}/")
    advancing(bob)
    assert bob.locator(".live-badge").is_visible()
    assert bob.locator(".live-host").text_content() == "carol"
    assert not bob.locator(".live-end").is_visible()  # not his live
    screenshot(bob, "live-room-zh-CN")

    carol = signed_in_page(phone(), site, "carol", f"/live/{on_air.pk}/")
    advancing(carol)
    carol.once("dialog", lambda dialog: dialog.accept())
    carol.locator(".live-end").click()
    carol.locator(".live-replay").wait_for(state="visible")

    bob.locator(".live-replay").wait_for(state="visible", timeout=15_000)  # at its next poll
    assert "结束" in bob.locator(".live-state").text_content()
    screenshot(bob, "live-ended-zh-CN")
    bob.locator(".live-replay").click()
    bob.wait_for_url(f"**/v/{on_air.clip_id}/")


def test_the_go_live_page_starts_a_live_from_one_of_my_videos(site, on_air, phone):
    alice = signed_in_page(phone(locale="en-US"), site, "alice", "/live/new/")
    alice.locator("input[name=title]").fill("Square dance, live")
    screenshot(alice, "live-new-en-US")
    alice.locator(".live-form [type=submit]").click()
    alice.wait_for_url(re.compile(r"/live/\d+/$"))
    advancing(alice)
    assert alice.locator(".live-title").text_content() == "Square dance, live"
    assert alice.locator(".live-end").is_visible()
    screenshot(alice, "live-room-host-en-US")
