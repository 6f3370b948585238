"""Watching in Debian Chromium at iPhone 13 size: autoplay, swipe, tab bar, screenshots."""

import contextlib
import re

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

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


def test_the_first_screen_fetches_only_the_first_poster_and_the_next_come_once_the_viewer_moves(
    site, demo_videos, phone
):
    page = phone().new_page()
    posters = []
    page.on("request", lambda request: "/poster." in request.url and posters.append(request.url))
    page.goto(f"{site}/")
    page.wait_for_function("document.querySelector('.slide video').currentTime > 0.3")
    page.wait_for_timeout(300)
    first = page.evaluate("document.querySelector('.slide video').dataset.poster")
    assert first.endswith("/poster.webp")
    assert posters == [f"{site}{first}"]  # the preload and the <video>'s poster: one request
    assert page.evaluate("document.querySelectorAll('.slide video')[1].getAttribute('poster')") is None

    swipe_up(page)
    page.wait_for_function("document.querySelectorAll('.slide video')[3].getAttribute('poster')")
    wanted = page.evaluate("[...document.querySelectorAll('.slide video')].slice(0, 4).map((v) => v.dataset.poster)")
    for _ in range(50):  # the requests follow the attributes
        if len(posters) >= 4:
            break
        page.wait_for_timeout(100)
    assert sorted(posters) == sorted(f"{site}{path}" for path in wanted)


def test_a_video_still_loading_shows_a_spinner_not_a_black_screen(site, demo_videos, phone):
    page = phone().new_page()
    held = []
    page.route("**/*.mp4", lambda route: held.append(route))  # the videos do not come (yet)
    page.goto(f"{site}/")
    first = page.locator(".slide").first
    expect(first).to_have_class(re.compile(r"\bis-loading\b"))
    screenshot(page, "feed-loading")
    page.unroute("**/*.mp4")
    for route in held:  # unless unroute let them go already
        with contextlib.suppress(PlaywrightError):
            route.continue_()
    page.wait_for_function("document.querySelector('.slide video').currentTime > 0.3")
    expect(first).not_to_have_class(re.compile(r"\bis-loading\b"))


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


def test_the_title_stays_put_and_the_feed_ends_with_a_way_back(site, demo_videos, phone):
    page = phone().new_page()
    page.goto(f"{site}/")
    title = page.locator(".feed-top h1")
    before = title.bounding_box()
    expect(page.locator(".sound-toggle")).to_be_visible()  # once the first video plays, muted
    assert title.bounding_box() == before  # it jumped sideways when the button came
    end = page.locator(".feed-end")
    assert len(demo_videos) <= 8 and end.is_hidden() is False  # one page: its end is known
    end.scroll_into_view_if_needed()
    expect(end).to_be_in_viewport()
    screenshot(page, "feed-end")
    end.locator("button").click()
    page.wait_for_function("document.querySelector('.feed').scrollTop < 2")


def test_a_long_title_takes_two_lines_and_a_long_description_opens_with_more(site, demo_videos, phone):
    from miniapp.videos.models import Video

    first = demo_videos[0]
    Video.objects.filter(pk=first.pk).update(title="老王家的葡萄熟了" * 8, description="今年雨水少，葡萄特别甜。" * 12)
    page = phone().new_page()
    page.goto(f"{site}/v/{first.pk}/")
    slide = page.locator(".slide").first
    assert slide.locator(".slide-title").bounding_box()["height"] <= 2 * 15 * 1.5 + 1  # two lines of 15 px
    more, desc = slide.locator(".slide-more"), slide.locator(".slide-desc")
    expect(more).to_have_text("展开")
    closed = desc.bounding_box()["height"]
    more.click()
    expect(more).to_have_text("收起")
    assert desc.bounding_box()["height"] > closed
    screenshot(page, "slide-description-open")
    more.click()
    expect(more).to_have_text("展开")


def test_the_authors_avatar_opens_their_page_signed_out_and_back_returns_to_the_video(site, demo_videos, phone):
    third = demo_videos[2]
    page = phone().new_page()
    page.goto(f"{site}/")
    for index in (1, 2):
        page.wait_for_function(f"document.querySelectorAll('.slide video')[{index - 1}].currentTime > 0.1")
        page.keyboard.press("ArrowDown")
    page.wait_for_function("document.querySelectorAll('.slide video')[2].currentTime > 0.1")
    page.locator(".slide").nth(2).locator(".slide-avatar").click()
    page.wait_for_url(f"{site}/u/{third.author_id}/")
    expect(page.locator(".topbar h1")).to_have_text(third.author.name)
    expect(page.locator(".video-grid a", has_text=third.title)).to_be_visible()
    screenshot(page, "author")
    page.locator(".author-back").click()
    page.wait_for_url(f"{site}/")
    page.wait_for_function("document.querySelectorAll('.slide video')[2].currentTime > 0.1")  # the same video


def test_the_progress_bar_fills_and_a_drag_on_it_moves_the_video(site, demo_videos, phone):
    page = phone().new_page()
    page.goto(f"{site}/")
    page.wait_for_function("document.querySelector('.slide video').currentTime > 0.3")
    fill = "new DOMMatrix(getComputedStyle(document.querySelector('.slide-progress-fill')).transform).a"
    page.wait_for_function(f"{fill} > 0")  # scaleX: the part played
    bar = page.locator(".slide").first.locator(".slide-progress")
    box = bar.bounding_box()
    duration = page.evaluate("document.querySelector('.slide video').duration")
    page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] / 2)
    page.mouse.down()
    expect(page.locator(".slide").first).to_have_class(re.compile(r"\bis-scrubbing\b"))
    expect(bar.locator(".slide-progress-time")).to_be_visible()  # 0:02 / 0:06, large, over the video
    page.mouse.move(box["x"] + box["width"] * 0.75, box["y"] + box["height"] / 2, steps=4)
    screenshot(page, "feed-progress-drag")
    page.mouse.up()
    at = page.evaluate("document.querySelector('.slide video').currentTime")
    assert abs(at - duration * 0.75) < 0.6, (at, duration)
    assert bar.get_attribute("aria-valuemax") == str(round(duration))
    page.wait_for_timeout(400)  # longer than a double tap: the drag was not a tap on the video
    assert page.evaluate("document.querySelector('.slide video').paused") is False
    page.keyboard.press("ArrowLeft")  # 5 s back
    assert page.evaluate("document.querySelector('.slide video').currentTime") < at - 3


def test_me_saves_its_switch_as_it_is_flipped(site, demo_videos, phone):
    from miniapp.accounts.models import User

    page = signed_in_page(phone(), site, "alice", "/me/")
    expect(page.locator(".setting-save")).to_be_hidden()  # no Save button: the switch saves
    expect(page.locator(".me-total")).to_contain_text("获赞")
    switch = page.locator("input.switch")
    expect(switch).to_be_checked()
    switch.click()
    expect(page.locator(".setting-said")).to_contain_text("仅自己可见")
    expect(switch).not_to_be_checked()
    assert User.objects.get(username="alice").share_likes is False
    screenshot(page, "me-switch")


def test_on_a_desktop_the_tab_bar_is_as_wide_as_the_column(site, demo_videos, chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN", bypass_csp=True)
    try:
        page = signed_in_page(context, site, "alice", "/")
        bar, feed = page.locator(".tabbar").bounding_box(), page.locator(".feed").bounding_box()
        assert (bar["x"], bar["width"]) == (feed["x"], feed["width"]) == (430, 420)
        screenshot(page, "feed-desktop")
        page.goto(f"{site}/friends/")
        bar = page.locator(".tabbar").bounding_box()
        assert bar["width"] == 640 and bar["x"] == 320
    finally:
        context.close()


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
