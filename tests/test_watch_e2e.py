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


def assert_a_phone_screen(path, page) -> None:
    """The screenshot is there, at the phone's size in pixels, and not blank."""
    from PIL import Image, ImageStat

    scale = page.evaluate("devicePixelRatio")
    with Image.open(path) as image:
        assert image.size == (page.viewport_size["width"] * scale, page.viewport_size["height"] * scale)
        assert ImageStat.Stat(image.convert("L")).stddev[0] > 10  # not one flat colour


@pytest.mark.parametrize(("locale", "me_tab"), [("zh-CN", "我的"), ("en-US", "Me")])
def test_screenshots(site, demo_videos, phone, locale, me_tab):
    context = phone(locale=locale)
    page = context.new_page()
    page.goto(f"{site}/")
    page.wait_for_function("document.querySelector('.slide video').currentTime > 0.5")
    assert page.locator(".tabbar a").last.inner_text() == me_tab  # in the phone's language
    assert_a_phone_screen(screenshot(page, f"feed-{locale}"), page)
    page.goto(f"{site}/v/{demo_videos[2].pk}/")
    page.wait_for_function("document.querySelector('.slide video').currentTime > 0.5")
    assert page.locator(".slide").first.get_attribute("data-id") == str(demo_videos[2].pk)
    assert_a_phone_screen(screenshot(page, f"video-{locale}"), page)
    me = signed_in_page(context, site, "alice", "/me/")
    assert "alice" in me.locator("main").inner_text()
    assert_a_phone_screen(screenshot(me, f"me-{locale}"), me)
