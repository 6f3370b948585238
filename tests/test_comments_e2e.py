"""Comments (评论) in Debian Chromium at iPhone 13 size, two phones on one video: a comment and a
reply arrive live on the other phone's open sheet, a deletion leaves both, a friend reads it in
好友动态, and a video taken down closes its sheet."""

import re

import pytest
from playwright.sync_api import expect

from tests.fixtures.servers import hide_in_admin, screenshot, sign_in_to_admin, signed_in_page

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def video(site, media_dir):
    from django.core.management import call_command

    call_command("seed_demo", verbosity=0)
    from miniapp.videos.models import Video

    return Video.objects.order_by("-created", "-id").first()


def open_sheet(page):
    page.locator(".slide").first.locator(".action-comment").click()
    sheet = page.locator("#comment-sheet")
    expect(sheet).to_be_visible()
    return sheet


def write(page, text: str) -> None:
    page.locator(".comment-compose input").fill(text)
    page.locator(".comment-compose button").click()


def test_two_phones_see_each_others_comments_live(site, video, phone):
    alice = signed_in_page(phone(), site, "alice", f"/v/{video.pk}/")
    erin = signed_in_page(phone(), site, "erin", f"/v/{video.pk}/")  # nobody's friend: comments are public
    alice_sheet, erin_sheet = open_sheet(alice), open_sheet(erin)
    expect(erin_sheet.locator(".comment-empty")).to_be_visible()
    erin.wait_for_timeout(300)  # the sheet's socket is open (its group joined) before anyone writes

    write(alice, "这是我们村的老王 <b>种麦子</b>")
    mine = alice_sheet.locator(".comment").first
    expect(mine.locator(".comment-text")).to_have_text("这是我们村的老王 <b>种麦子</b>")  # text, not markup
    theirs = erin_sheet.locator(".comment").first
    expect(theirs.locator(".comment-text")).to_have_text("这是我们村的老王 <b>种麦子</b>")  # live, no reload
    expect(erin_sheet.locator(".comment-title")).to_have_text("1 条评论")
    expect(erin.locator(".slide").first.locator(".action-comment .action-count")).to_have_text("1")

    theirs.locator(".comment-reply").click()
    expect(erin.locator(".comment-compose input")).to_have_attribute("placeholder", "回复 alice")
    write(erin, "老王好！")
    expect(mine.locator(".comment-replies .comment-text")).to_have_text("老王好！")
    expect(theirs.locator(".comment-actions .comment-delete").first).to_be_hidden()  # not erin's to delete
    screenshot(alice, "comments-sheet")

    theirs.locator(".comment-actions .comment-report").first.click()  # erin reports alice's comment
    erin_sheet.locator(".sheet-report input[value=spam]").check()
    screenshot(erin, "comments-report")
    erin_sheet.locator(".sheet-report [type=submit]").click()
    expect(erin.locator(".feed-toast")).to_contain_text("感谢举报")
    expect(erin_sheet.locator(".sheet-report")).to_be_hidden()
    expect(mine.locator(".comment-actions .comment-report").first).to_be_hidden()  # not one's own

    alice.once("dialog", lambda dialog: dialog.accept())
    mine.locator(".comment-delete").first.click()
    expect(alice_sheet.locator(".comment")).to_have_count(0)
    expect(erin_sheet.locator(".comment")).to_have_count(0)  # with its reply, on both phones
    expect(erin_sheet.locator(".comment-empty")).to_be_visible()


def test_a_friends_comment_is_in_friends_activity_and_opens_the_comments(site, video, phone):
    bob = signed_in_page(phone(), site, "bob", "/friends/")  # alice's friend
    bob.wait_for_function("document.documentElement.dataset.socket === 'open'")
    alice = signed_in_page(phone(), site, "alice", f"/v/{video.pk}/")
    open_sheet(alice)
    write(alice, "好看")
    entry = bob.locator(".activity", has_text="评论了")
    expect(entry).to_contain_text(f"alice 评论了《{video.title}》")  # live, over bob's socket
    expect(entry).to_contain_text("好看")
    entry.locator("a").first.click()
    bob.wait_for_url(re.compile(rf"/v/{video.pk}/\?comments=1"))
    expect(bob.locator("#comment-sheet .comment-text")).to_have_text("好看")  # opened with its comments


def test_signed_out_reads_comments_and_a_takedown_closes_the_sheet(site, video, phone, chromium):
    alice = signed_in_page(phone(), site, "alice", f"/v/{video.pk}/")
    open_sheet(alice)
    write(alice, "沙发")
    page = phone().new_page()
    page.goto(f"{site}/v/{video.pk}/")
    sheet = open_sheet(page)
    expect(sheet.locator(".comment-text")).to_have_text("沙发")
    expect(sheet.locator(".comment-signin a")).to_have_text("登录后评论")
    expect(sheet.locator(".comment-reply")).to_be_hidden()
    alice.wait_for_function("document.documentElement.dataset.socket === 'open'")
    desk = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    try:
        admin = desk.new_page()
        sign_in_to_admin(admin, site)
        hide_in_admin(admin, site, video)
    finally:
        desk.close()
    expect(alice.locator("#comment-sheet")).to_be_hidden()  # the video went, and its comments with it
    expect(page.locator("#comment-sheet")).to_be_hidden()  # signed out too: told on the sheet's own socket
