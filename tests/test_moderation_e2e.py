"""Moderation in Debian Chromium: a moderator hides a reported video in Django admin, and
bob's open 好友动态 page drops alice's like of it at once, without a reload."""

import pytest
from django.conf import settings

from tests.fixtures.servers import screenshot, signed_in_page

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def reported(site):
    from django.core.management import call_command

    from miniapp.accounts.models import User
    from miniapp.engagement.services import like_create
    from miniapp.moderation.services import report_create
    from miniapp.videos.models import Video

    call_command("seed_demo", verbosity=0)
    video = Video.objects.get(title="小猫晒太阳")
    users = {u.username: u for u in User.objects.all()}
    like_create(user=users["alice"], video=video)
    report_create(reporter=users["carol"], video=video, reason="spam", text="加微信领红包 <b>假的</b>")
    report_create(reporter=users["dave"], video=video, reason="other", text="")
    return video


def test_a_moderator_hides_a_video_and_it_leaves_a_friends_feed_live(site, reported, phone, chromium):
    bob = signed_in_page(phone(), site, "bob", "/friends/")
    bob.wait_for_function("document.documentElement.dataset.socket === 'open'")
    item = bob.locator(".activity", has_text="小猫晒太阳")
    item.wait_for()

    desk = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    try:
        admin = desk.new_page()
        admin.goto(f"{site}/admin/moderation/report/")  # not signed in: the admin's login page
        password = (settings.VAR_DIR / "moderator-password").read_text().strip()
        admin.locator("input[name=username]").fill("moderator")
        admin.locator("input[name=password]").fill(password)
        admin.locator("input[type=submit]").click()
        admin.wait_for_url("**/admin/moderation/report/")
        assert admin.locator("#result_list").inner_text().count("小猫晒太阳") == 2
        assert admin.locator("#result_list b").count() == 0  # the report's HTML is text
        screenshot(admin, "admin-report-queue-zh-CN")

        admin.goto(f"{site}/admin/videos/video/{reported.pk}/change/")
        screenshot(admin, "admin-video-change-zh-CN")
        admin.locator(f'a[href$="/admin/videos/video/{reported.pk}/decide/hide/"]').click()
        admin.locator("input[type=submit]").click()  # no reason: the form will not go (the server refuses too)
        assert admin.locator("textarea[name=reason]:invalid").count() == 1
        assert "/decide/hide/" in admin.url
        admin.locator("textarea[name=reason]").fill("广告引流")
        admin.locator("input[type=submit]").click()
        admin.wait_for_url(f"**/admin/videos/video/{reported.pk}/change/")
        assert admin.locator(".messagelist .success").count() == 1
    finally:
        desk.close()

    item.wait_for(state="detached", timeout=10_000)  # gone from bob's page, no reload
    from miniapp.moderation.models import ModerationAction, Report

    action = ModerationAction.objects.get()
    assert (action.kind, action.reason, action.moderator.username) == ("hide", "广告引流", "moderator")
    assert not Report.objects.filter(status="open").exists()


def test_a_viewer_reports_a_video_from_the_share_sheet(site, reported, phone):
    erin = signed_in_page(phone(), site, "erin", f"/v/{reported.pk}/")
    erin.locator(".slide").first.locator(".action-share").click()
    erin.locator('#share-sheet [data-action="report"]').click()
    pane = erin.locator("#share-sheet .sheet-report")  # the comment sheet has one too
    assert pane.locator("[type=submit]").is_disabled()  # a reason first
    pane.locator("label.report-reason", has_text="暴力血腥").click()
    pane.locator("textarea[name=text]").fill("<i>吓人</i>")
    screenshot(erin, "report-sheet-zh-CN")
    pane.locator("[type=submit]").click()
    erin.locator(".feed-toast", has_text="审核员").wait_for()
    from miniapp.moderation.models import Report

    report = Report.objects.get(reporter__username="erin")
    assert (report.reason, report.text, report.video_id) == ("violence", "<i>吓人</i>", reported.pk)
