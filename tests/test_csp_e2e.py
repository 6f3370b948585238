"""The pages work under their own Content-Security-Policy, in Debian Chromium, with nothing
blocked: the feed plays and likes, 好友动态 connects its socket, the share sheet opens."""

import time

import pytest
from playwright.sync_api import expect

from tests.fixtures.servers import signed_in_page

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_pages_run_under_the_policy_with_nothing_blocked(site, chromium):
    from django.core.management import call_command

    from miniapp.videos.models import Video

    call_command("seed_demo", verbosity=0)
    video = Video.objects.exclude(likes__user__username="alice").order_by("pk").first()
    context = chromium.new_context(**chromium.devices["iPhone 13"], locale="zh-CN")  # CSP enforced
    blocked = []
    context.on("console", lambda message: "Content Security Policy" in message.text and blocked.append(message.text))
    try:
        page = signed_in_page(context, site, "alice", f"/v/{video.pk}/")
        assert page.evaluate("document.querySelector('.slide video').getAttribute('src')")  # feed.js ran
        like = page.locator(".slide").first.locator(".action-like")
        like.click()
        expect(like).to_have_attribute("aria-pressed", "true")
        page.locator(".slide").first.locator(".action-share").click()
        expect(page.locator("#share-sheet")).to_be_visible()
        page.goto(f"{site}/friends/")
        expect(page.locator("html")).to_have_attribute("data-socket", "open")
    finally:
        context.close()
    assert blocked == []


def wait_until(page, script: str, seconds: float = 15) -> None:
    """Poll `script` in the page (wait_for_function evaluates a string, which the policy forbids)."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(script):
        assert time.monotonic() < deadline, f"never true: {script}"
        page.wait_for_timeout(100)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_the_feed_plays_at_the_sites_name_and_its_localhost_twin(site, chromium, host):
    """SITE_URL names 127.0.0.1; opened as localhost, the page still plays its media, those of
    the cards it loads from the API too (absolute on SITE_URL there, another origin), and shows
    the avatars (the provider's, on SITE_URL)."""
    from django.core.management import call_command

    from miniapp.videos.models import Video

    call_command("seed_demo", verbosity=0)
    clip = Video.objects.order_by("pk").first()
    for n in range(4):  # more than a page of 8: the rest comes from the API
        Video.objects.create(
            **{f.name: getattr(clip, f.name) for f in Video._meta.concrete_fields if not f.primary_key}
            | {"title": f"again {n}"}
        )
    base = site.replace("127.0.0.1", host)
    context = chromium.new_context(**chromium.devices["iPhone 13"], locale="zh-CN")  # CSP enforced
    blocked = []
    context.on("console", lambda message: "Content Security Policy" in message.text and blocked.append(message.text))
    try:
        page = context.new_page()
        page.goto(f"{base}/")
        wait_until(page, "document.querySelector('.slide video').currentTime > 0.1")
        page.evaluate("document.querySelectorAll('.slide')[7].scrollIntoView()")
        expect(page.locator(".slide")).to_have_count(Video.objects.count())
        page.evaluate("document.querySelectorAll('.slide')[9].scrollIntoView()")
        wait_until(page, "document.querySelectorAll('.slide video')[9].currentTime > 0.1")
        assert page.evaluate("new URL(document.querySelectorAll('.slide video')[9].src).origin") == base
    finally:
        context.close()
    assert blocked == []  # the provider's avatars too, on SITE_URL's origin over plain HTTP here
