"""Watching in Debian Chromium at iPhone 13 size: autoplay, swipe, tab bar, screenshots."""

import pytest

from tests.fixtures.servers import screenshot, signed_in_page, swipe_up

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_videos(site, media_dir):
    from django.core.management import call_command

    call_command("seed_demo", verbosity=0)
    from miniapp.videos.models import Video

    return list(Video.objects.order_by("-created", "-id"))


def current_time(page, index: int) -> float:
    return page.evaluate(f"document.querySelectorAll('.slide video')[{index}].currentTime")


def test_the_first_video_plays_and_a_swipe_brings_the_next(site, demo_videos, phone):
    page = phone().new_page()
    page.goto(f"{site}/")
    page.wait_for_function("document.querySelector('.slide video').currentTime > 0.3")
    assert page.evaluate("document.querySelector('.slide video').muted") is True

    swipe_up(page)
    page.wait_for_function("document.querySelectorAll('.slide video')[1].currentTime > 0.3")
    assert page.evaluate("document.querySelectorAll('.slide video')[0].paused") is True
    # The one after next is not loaded yet: the next video is preloaded, no more.
    assert page.evaluate("document.querySelectorAll('.slide video')[3].getAttribute('src')") is None


def test_the_tab_bar_sits_above_the_safe_area(site, demo_videos, phone):
    page = phone().new_page()
    page.goto(f"{site}/")
    box = page.locator(".tabbar").bounding_box()
    viewport = page.viewport_size
    assert box["y"] + box["height"] <= viewport["height"] + 0.5
    assert box["height"] >= 50
    assert page.locator(".tabbar a").first.is_visible()
    feed = page.locator(".feed").bounding_box()
    assert feed["y"] + feed["height"] <= box["y"] + 1  # videos end where the tab bar starts


def test_keyboard_arrows_move_between_videos(site, demo_videos, phone):
    page = phone().new_page()
    page.goto(f"{site}/")
    page.wait_for_function("document.querySelector('.slide video').currentTime > 0.1")
    page.keyboard.press("ArrowDown")
    page.wait_for_function("document.querySelectorAll('.slide video')[1].currentTime > 0.1")


def test_a_shared_link_opens_the_video_signed_out(site, demo_videos, phone):
    wanted = demo_videos[3]
    page = phone().new_page()
    page.goto(f"{site}/v/{wanted.pk}/")
    assert page.locator(".slide").first.get_attribute("data-id") == str(wanted.pk)
    page.wait_for_function("document.querySelector('.slide video').currentTime > 0.1")


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_screenshots(site, demo_videos, phone, locale):
    context = phone(locale=locale)
    page = context.new_page()
    page.goto(f"{site}/")
    page.wait_for_function("document.querySelector('.slide video').currentTime > 0.5")
    screenshot(page, f"feed-{locale}")
    page.goto(f"{site}/v/{demo_videos[2].pk}/")
    page.wait_for_function("document.querySelector('.slide video').currentTime > 0.5")
    screenshot(page, f"video-{locale}")
    me = signed_in_page(context, site, "alice", "/me/")
    screenshot(me, f"me-{locale}")
