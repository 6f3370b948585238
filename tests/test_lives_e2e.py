"""A live room in Debian Chromium at iPhone 13 size: seed_demo's live (one of carol's clips played
as live by the server's runner) opens from its link for bob, his player moves on (hls.js over
the app's HLS), carol ends it from her room, and bob's room says so and offers the replay.
Alice goes live from her camera (Chromium's fake camera: its test pattern and a beep), bob
watches it (from another worker, on PostgreSQL + Redis), she ends it, and its recording becomes
one of her videos."""

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

    bob.locator(".live-share-open").click()  # the share sheet: its QR code, then a report
    bob.locator('#live-share-sheet [data-action="qr"]').click()
    bob.wait_for_function("document.querySelector('#live-share-sheet .sheet-qr img').naturalWidth > 0")
    screenshot(bob, "live-share-qr-zh-CN")
    bob.locator('#live-share-sheet [data-action="report"]').click()
    bob.locator("#live-share-sheet .report-reason").first.click()
    bob.locator("#live-share-sheet .sheet-report [type=submit]").click()
    bob.locator("#live-share-sheet .sheet-done").filter(has_text="审核").wait_for()
    from miniapp.moderation.models import Report

    assert Report.objects.filter(live=on_air, reporter__username="bob").exists()
    bob.locator("#live-share-sheet .sheet-cancel").click()

    carol = signed_in_page(phone(), site, "carol", f"/live/{on_air.pk}/")
    advancing(carol)
    carol.once("dialog", lambda dialog: dialog.accept())
    carol.locator(".live-end").click()
    carol.locator(".live-replay").wait_for(state="visible")

    bob.locator(".live-replay").wait_for(state="visible", timeout=15_000)  # the room socket says so
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


def test_alice_goes_live_from_her_camera_bob_watches_and_the_replay_is_hers(site, on_air, phone, other_worker):
    from miniapp.lives.models import Live

    alice = signed_in_page(phone(), site, "alice", "/live/new/")
    alice.locator("input[name=title]").fill("村口的晚霞")
    alice.wait_for_function("document.querySelector('.live-preview').readyState >= 2")  # her camera's preview
    assert alice.locator(".live-flip-preview").is_visible()
    screenshot(alice, "live-new-camera-zh-CN")
    alice.locator(".live-groups label", has_text="王家村").click()  # announced in 王家村
    alice.locator(".live-form [type=submit]").click()
    alice.wait_for_url(re.compile(r"/live/\d+/$"))
    live = Live.objects.get(title="村口的晚霞")
    assert live.source == Live.Source.CAMERA and live.status == Live.Status.LIVE
    alice.locator(".live-flip").wait_for(state="visible")
    alice.wait_for_function("document.querySelector('.live-state').textContent === ''", timeout=30_000)  # on air
    screenshot(alice, "live-room-camera-host-zh-CN")

    # bob on another worker (with Redis: a second Daphne; the camera's worker writes, his serves).
    bob = signed_in_page(phone(), other_worker.url, "bob", "/")
    chips = bob.locator(".live-strip .live-chip")
    assert chips.first.get_attribute("data-live") == str(live.pk)  # his friend's live first, then carol's
    assert chips.count() == 2
    screenshot(bob, "live-strip-zh-CN")
    chips.first.click()
    bob.wait_for_url(f"**/live/{live.pk}/")
    advancing(bob, timeout=45_000)
    frames = bob.evaluate("document.querySelector('.live-video').getVideoPlaybackQuality().totalVideoFrames")
    assert frames > 0 and bob.locator(".live-host").text_content() == "alice"
    screenshot(bob, "live-room-camera-zh-CN")

    erin = signed_in_page(phone(), site, "erin", "/groups/")  # in 王家村, nobody's friend
    erin.locator(".group-row", has_text="王家村").click()
    card = erin.locator(".post-live").last
    card.filter(has_text="村口的晚霞").wait_for()
    assert "直播中" in card.text_content()
    screenshot(erin, "live-group-post-zh-CN")

    alice.once("dialog", lambda dialog: dialog.accept())
    alice.locator(".live-end").click()
    bob.locator(".live-state").filter(has_text="结束").wait_for(timeout=15_000)
    bob.locator(".live-replay").wait_for(state="visible", timeout=60_000)  # the recording, made into a video
    live.refresh_from_db()
    assert live.replay is not None and live.replay.author.username == "alice" and live.replay.is_published
    screenshot(bob, "live-camera-ended-zh-CN")
    alice.goto(f"{site}/me/")
    assert alice.locator(".video-grid-title", has_text="村口的晚霞").count() == 1  # one of her videos now


def test_a_refused_camera_is_said_plainly(site, on_air, phone):
    context = phone()
    context.add_init_script(
        "navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('denied', 'NotAllowedError'));"
    )
    alice = signed_in_page(context, site, "alice", "/live/new/")
    message = alice.locator(".live-camera-message")
    message.filter(has_text="摄像头").wait_for()
    assert "允许" in message.text_content()
    assert not alice.locator(".live-flip-preview").is_visible()
