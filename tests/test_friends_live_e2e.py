"""A like on one phone appears on a friend's phone at once, and survives a cut socket."""

import time

import pytest
from playwright.sync_api import expect

from tests.fixtures.servers import screenshot, signed_in_page

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def videos(site):
    from django.core.management import call_command

    from miniapp.videos.models import Video

    call_command("seed_demo", verbosity=0)
    return list(Video.objects.exclude(likes__user__username="alice").order_by("pk")[:3])


def wait_until(page, condition, seconds: float = 10) -> None:
    """Let Playwright run (and call the test's handlers) until `condition()` is true."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not true after {seconds} s: {condition}"
        page.wait_for_timeout(20)


def like_on_phone(page, site, video) -> None:
    page.goto(f"{site}/v/{video.pk}/")
    button = page.locator(".slide").first.locator(".action-like")
    button.click()
    page.wait_for_function(
        "b => b.getAttribute('aria-pressed') === 'true' && !b.dataset.pending",
        arg=button.element_handle(),
    )
    page.wait_for_load_state("networkidle")


def test_a_like_reaches_a_friend_live_and_after_a_reconnect(site, videos, phone, daphne_server):
    bob = signed_in_page(phone(), site, "bob", "/friends/")
    sockets, from_server = [], []

    def through(route):
        server = route.connect_to_server()

        def forward(message):
            from_server.append(message)
            route.send(message)

        server.on_message(forward)
        sockets.append((route, server))

    bob.route_web_socket("**/ws/activity/**", through)
    bob.reload()
    bob.wait_for_function("document.documentElement.dataset.socket === 'open'")
    alice = signed_in_page(phone(), site, "alice", "/")

    like_on_phone(alice, site, videos[0])
    item = bob.locator(".activity", has_text=videos[0].title)
    item.wait_for()
    assert "alice" in item.inner_text() and "赞了" in item.inner_text()
    screenshot(bob, "friends-live-zh-CN")

    # Cut bob's socket, then alice likes two more while he is away.
    page_side, server_side = sockets[-1]
    server_side.close()
    page_side.close(code=4000, reason="network cut")
    bob.wait_for_function("document.documentElement.dataset.socket !== 'open'")
    like_on_phone(alice, site, videos[1])
    like_on_phone(alice, site, videos[2])

    bob.wait_for_function("document.documentElement.dataset.socket === 'open'", timeout=20_000)
    for video in videos[1:]:
        bob.locator(".activity", has_text=video.title).wait_for()
    # The resumed socket's replay may repeat the first like: once the answer to a ping has
    # come, everything sent before it (the replay) has reached the page and been shown.
    sockets[-1][1].send('{"type": "ping"}')
    wait_until(bob, lambda: '{"type": "pong"}' in from_server)
    bob.evaluate("() => new Promise((done) => setTimeout(done))")  # the page has handled what came
    for video in videos:
        assert bob.locator(".activity", has_text=video.title).count() == 1
    assert len(sockets) == 2  # one reconnect, resumed from the last id
    # Each socket names bob's shard, for a proxy that routes by it (README).
    from django.conf import settings

    from miniapp.accounts.models import User

    shard = f"shard={User.objects.get(username='bob').pk % settings.REALTIME_SHARDS}"
    assert shard in sockets[0][0].url and shard in sockets[1][0].url and "after=" in sockets[1][0].url
    # The pushes went straight to Daphne's connections (realtime.frames), not through ASGI send.
    assert "written straight to Daphne's connections" in daphne_server.log.read_text()


def test_an_unlike_disappears_from_the_friends_feed(site, videos, phone):
    bob = signed_in_page(phone(), site, "bob", "/friends/")
    bob.wait_for_function("document.documentElement.dataset.socket === 'open'")
    alice = signed_in_page(phone(), site, "alice", "/")
    like_on_phone(alice, site, videos[0])
    bob.locator(".activity", has_text=videos[0].title).wait_for()
    alice.locator(".slide").first.locator(".action-like").click()
    bob.locator(".activity", has_text=videos[0].title).wait_for(state="detached")


def test_a_toast_announces_a_friends_like_on_other_pages(site, videos, phone):
    bob = signed_in_page(phone(), site, "bob", "/me/")
    bob.wait_for_function("document.documentElement.dataset.socket === 'open'")
    alice = signed_in_page(phone(), site, "alice", "/")
    like_on_phone(alice, site, videos[0])
    toast = bob.locator(".friend-toast")
    toast.wait_for()
    assert videos[0].title in toast.inner_text()
    assert toast.get_attribute("aria-live") == "polite"
    screenshot(bob, "toast-zh-CN")


def test_double_tap_likes_with_a_heart(site, videos, phone):
    alice = signed_in_page(phone(), site, "alice", f"/v/{videos[0].pk}/")
    slide = alice.locator(".slide").first
    slide.locator("video").dblclick(position={"x": 150, "y": 300})
    alice.locator(".heart-burst").first.wait_for(state="attached")  # a short animation at the tap point
    alice.wait_for_function("document.querySelector('.action-like').getAttribute('aria-pressed') === 'true'")
    alice.wait_for_load_state("networkidle")
    # A second double tap never unlikes: its heart shows, and the like stays without a request.
    alice.locator(".heart-burst").wait_for(state="detached")  # the first heart is gone
    likes_sent = []
    alice.on("request", lambda request: "/like/" in request.url and likes_sent.append(request.method))
    slide.locator("video").dblclick(position={"x": 150, "y": 300})
    alice.locator(".heart-burst").wait_for(state="attached")  # the double tap was handled
    assert slide.locator(".action-like").get_attribute("aria-pressed") == "true"
    assert likes_sent == []


def test_a_refused_like_rolls_back_with_a_message(site, videos, phone):
    from miniapp.videos.models import Video

    alice = signed_in_page(phone(), site, "alice", f"/v/{videos[0].pk}/")
    Video.objects.filter(pk=videos[0].pk).update(status=Video.Status.HIDDEN)
    button = alice.locator(".slide").first.locator(".action-like")
    count_before = button.locator(".action-count").inner_text()
    button.click()
    alice.locator(".feed-toast").wait_for()
    alice.wait_for_function("b => !b.dataset.pending", arg=button.element_handle())
    assert button.get_attribute("aria-pressed") == "false"
    assert button.locator(".action-count").inner_text() == count_before
    assert alice.locator(".feed-toast").inner_text()  # the server's reason, for a person


def test_signed_out_like_signs_in_and_comes_back_liked(site, videos, phone):
    page = phone().new_page()
    page.goto(f"{site}/v/{videos[1].pk}/")
    page.locator(".slide").first.locator(".action-like").click()
    # The mock provider's page: pick carol and allow.
    page.wait_for_url("**/mockwx/authorize**")
    page.locator("label.persona", has_text="carol").locator("input").check()
    page.locator("button[value=allow]").click()
    page.wait_for_url(f"{site}/v/{videos[1].pk}/")
    page.wait_for_function("document.querySelector('.action-like').getAttribute('aria-pressed') === 'true'")
    page.wait_for_load_state("networkidle")
    assert "like=1" not in page.url
    from miniapp.engagement.models import Like

    assert Like.objects.filter(user__username="carol", video=videos[1]).exists()


def test_the_banner_says_offline_and_goes_as_soon_as_the_network_is_back(site, videos, phone):
    context = phone()
    bob = signed_in_page(context, site, "bob", "/friends/")
    bob.wait_for_function("document.documentElement.dataset.socket === 'open'")
    banner = bob.locator(".conn-banner")
    context.set_offline(True)
    expect(banner).to_be_visible()
    header = bob.locator(".topbar").bounding_box()
    assert banner.bounding_box()["y"] >= header["y"] + header["height"]  # under the title, not over it
    screenshot(bob, "offline-banner")
    context.set_offline(False)
    expect(banner).to_be_hidden(timeout=5_000)  # not 20 s and more, as it was
    alice = signed_in_page(phone(), site, "alice", "/")
    like_on_phone(alice, site, videos[0])
    bob.locator(".activity", has_text=videos[0].title).wait_for(timeout=5_000)
    expect(banner).to_be_hidden()


def test_the_consent_sheet_keeps_its_buttons_in_view_and_deny_comes_back(site, videos, phone):
    page = phone().new_page()  # iPhone 13: 390 x 664
    page.goto(f"{site}/v/{videos[1].pk}/")
    page.locator(".slide").first.locator(".action-like").click()
    page.wait_for_url("**/mockwx/authorize**")
    height = page.viewport_size["height"]
    for value in ("allow", "deny"):
        box = page.locator(f"button[value={value}]").bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= height, (value, box, height)
    screenshot(page, "consent-sheet")
    page.locator("button[value=deny]").click()
    page.wait_for_url(f"{site}/v/{videos[1].pk}/")  # back at the video, not home
    expect(page.locator(".toast")).to_contain_text("取消了登录")
    expect(page.locator(".toast")).to_have_count(0, timeout=4_000)  # faded, as wx.showToast's do (1.5 s)
    assert page.evaluate("document.body.dataset.signedIn") == ""


def test_it_falls_back_to_polling_when_the_socket_never_opens(site, videos, phone):
    bob_context = phone()
    bob = bob_context.new_page()
    # A proxy or firewall that refuses WebSockets: every attempt is closed at once.
    bob.route_web_socket("**/ws/activity/**", lambda route: route.close(code=1006, reason="blocked"))
    bob.goto(f"{site}/login/?login_hint=bob&next=/friends/")
    bob.wait_for_url(f"{site}/friends/")
    bob.locator(".conn-banner").wait_for()  # the banner says it is reconnecting
    alice = signed_in_page(phone(), site, "alice", "/")
    like_on_phone(alice, site, videos[0])
    # Three failed attempts (about 3.5 s), then a poll every 15 s.
    bob.locator(".activity", has_text=videos[0].title).wait_for(timeout=30_000)
