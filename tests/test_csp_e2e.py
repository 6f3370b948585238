"""The pages work under their own Content-Security-Policy, in Debian Chromium, with nothing
blocked: the feed plays and likes, 好友动态 connects its socket, the share sheet opens."""

import pytest
from playwright.sync_api import expect

from tests.conftest import signed_in_page

pytestmark = pytest.mark.django_db(transaction=True)


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
