"""The share loop in Debian Chromium at iPhone 13 size: alice shares her video to bob with a note,
bob sees it live, opens it, likes it and shares it on to carol; alice's stats show a chain of two."""

import pytest

from tests.fixtures.servers import screenshot, signed_in_page

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NOTE = "这是我们村的老王 <b>真的</b>"


@pytest.fixture
def dance(site, identities):
    from django.core.management import call_command

    from miniapp.videos.models import Video

    # A family group: bob and carol know each other too (on the provider; imported at sign-in).
    identities["bob"].friends.add(identities["carol"])
    call_command("seed_demo", verbosity=0)
    return Video.objects.get(title="广场舞大赛", author__username="alice")


def share_to(page, friend: str, note: str = "") -> None:
    page.locator(".slide").first.locator(".action-share").click()
    sheet = page.locator("#share-sheet")
    sheet.wait_for()
    sheet.locator('[data-action="friends"]').click()
    sheet.locator(".friend-picker label", has_text=friend).click()
    if note:
        sheet.locator("textarea[name=note]").fill(note)


def send(page) -> None:
    page.locator("#share-sheet .sheet-friends [type=submit]").click()
    page.locator("#share-sheet").wait_for(state="hidden")


def test_like_share_like_loop(site, dance, phone):
    bob = signed_in_page(phone(), site, "bob", "/friends/")
    bob.wait_for_function("document.documentElement.dataset.socket === 'open'")

    alice = signed_in_page(phone(), site, "alice", f"/v/{dance.pk}/")
    share_to(alice, "bob", NOTE)
    assert alice.locator(".sheet-note-count").inner_text() == f"{len(NOTE)}/140"
    screenshot(alice, "share-sheet-zh-CN")
    send(alice)
    alice.locator(".feed-toast", has_text="1").wait_for()

    # Live in bob's 好友动态, the note as text, not markup.
    item = bob.locator(".activity", has_text="这是我们村的老王")
    item.wait_for()
    assert "alice" in item.inner_text() and "分享" in item.inner_text()
    assert item.locator(".activity-note").inner_text() == NOTE
    assert item.locator(".activity-note b").count() == 0

    # Bob opens it: the link carries the share, the note is on the video; he likes and shares on.
    item.locator("a").click()
    bob.wait_for_url(f"**/v/{dance.pk}/?s=*")
    first = bob.locator(".slide").first
    assert NOTE in first.locator(".slide-shared").inner_text()
    screenshot(bob, "share-landing-zh-CN")
    first.locator(".action-like").click()
    bob.wait_for_function("document.querySelector('.slide .action-like').getAttribute('aria-pressed') === 'true'")
    share_to(bob, "carol", "转给你看看")
    send(bob)

    from miniapp.engagement.models import Like, ShareLink

    chain = ShareLink.objects.get(sharer__username="bob")
    assert chain.depth == 2 and chain.parent.sharer.username == "alice"
    assert Like.objects.get(user__username="bob", video=dance).share == chain.parent

    stats = alice.context.new_page()
    stats.goto(f"{site}/me/videos/{dance.pk}/stats/")
    deepest = stats.locator("[data-stat=deepest_chain]")
    assert "2" in deepest.inner_text()
    screenshot(stats, "share-stats-zh-CN")


def test_a_signed_out_like_on_a_shared_link_signs_in_and_comes_back_liked(site, dance, phone):
    from miniapp.engagement import services
    from miniapp.engagement.models import Like
    from miniapp.videos.models import Video

    alice = Video.objects.get(pk=dance.pk).author
    share, _ = services.share_create(sharer=alice, video=dance, recipients=[], note="看看我们村")
    visitor = phone().new_page()
    visitor.goto(f"{site}/v/{dance.pk}/?s={share.token}&from=singlemessage&isappinstalled=0")
    assert "看看我们村" in visitor.locator(".slide-shared").inner_text()
    assert visitor.locator('meta[property="og:image"]').get_attribute("content").endswith("/card.jpg")
    visitor.locator(".slide").first.locator(".action-like").click()
    # The mock provider's page: pick dave and allow.
    visitor.wait_for_url("**/mockwx/authorize**")
    visitor.locator("label.persona", has_text="dave").locator("input").check()
    visitor.locator("button[value=allow]").click()
    visitor.wait_for_url(f"{site}/v/{dance.pk}/?s={share.token}")
    visitor.wait_for_function(
        "document.querySelector('.slide .action-like').getAttribute('aria-pressed') === 'true'", timeout=20_000
    )
    visitor.wait_for_load_state("networkidle")  # the like request has been answered
    assert visitor.url.endswith(f"/v/{dance.pk}/?s={share.token}")
    like = Like.objects.get(user__username="dave", video=dance)
    assert like.share == share


def test_inside_wechat_the_share_button_points_at_the_menu_with_the_share_link(site, dance, chromium):
    agent = (
        chromium.devices["iPhone 13"]["user_agent"] + " MicroMessenger/8.0.50(0x1800323a) NetType/WIFI Language/zh_CN"
    )
    context = chromium.new_context(**{**chromium.devices["iPhone 13"], "user_agent": agent}, locale="zh-CN")
    try:
        page = signed_in_page(context, site, "alice", f"/v/{dance.pk}/")
        page.locator(".slide").first.locator(".action-share").click()
        page.locator('#share-sheet [data-action="wechat"]').click()
        page.locator(".wechat-guide").wait_for()
        assert "?s=" in page.url  # WeChat's own menu shares the address bar
        screenshot(page, "share-wechat-zh-CN")
    finally:
        context.close()


def test_copy_link_and_qr_code(site, dance, phone):
    context = phone()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site)
    page = signed_in_page(context, site, "alice", f"/v/{dance.pk}/")
    page.locator(".slide").first.locator(".action-share").click()
    page.locator('#share-sheet [data-action="copy"]').click()
    page.locator(".feed-toast").wait_for()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith(f"{site}/v/{dance.pk}/?s=")
    page.locator(".slide").first.locator(".action-share").click()
    page.locator('#share-sheet [data-action="qr"]').click()
    qr = page.locator(".sheet-qr img")
    qr.wait_for()
    page.wait_for_function("document.querySelector('.sheet-qr img').naturalWidth > 0")
    screenshot(page, "share-qr-zh-CN")


def open_poster(page):
    """The share sheet's 二维码, then 保存海报: on a phone, the poster itself, to long-press."""
    page.locator(".slide").first.locator(".action-share").click()
    page.locator('#share-sheet [data-action="qr"]').click()
    page.wait_for_function("document.querySelector('.sheet-qr img').naturalWidth > 0")
    save = page.locator("#share-sheet .sheet-poster-save")
    assert save.inner_text() == "保存海报" and save.get_attribute("download")
    screenshot(page, "share-qr-poster-button-zh-CN")
    save.click()
    poster = page.locator(".sheet-poster img")
    poster.wait_for()
    page.wait_for_function("document.querySelector('.sheet-poster img').naturalWidth === 750")
    assert "长按图片保存" in page.locator(".sheet-poster").inner_text()
    return save.get_attribute("href")


def test_the_qr_pane_offers_the_poster_to_long_press(site, dance, phone):
    import io

    import requests
    import zxingcpp
    from PIL import Image

    page = signed_in_page(phone(), site, "alice", f"/v/{dance.pk}/")
    poster = open_poster(page)
    assert poster.startswith(f"{site}/v/{dance.pk}/poster.jpg?s=")
    box = page.locator(".sheet-poster img").bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= page.viewport_size["height"]  # all of it in view
    screenshot(page, "share-poster-zh-CN")
    # The poster's QR code is the link the QR pane's code is of: alice's plain share link.
    image = Image.open(io.BytesIO(requests.get(poster, timeout=10).content))
    token = poster.split("?s=", 1)[1]
    assert [code.text for code in zxingcpp.read_barcodes(image)] == [f"{site}/v/{dance.pk}/?s={token}"]


def test_signed_out_the_poster_is_of_the_link_they_came_through(site, dance, phone):
    from miniapp.engagement import services

    share, _ = services.share_create(sharer=dance.author, video=dance, recipients=[], note="看看我们村")
    visitor = phone().new_page()
    visitor.goto(f"{site}/v/{dance.pk}/?s={share.token}")
    assert open_poster(visitor) == f"{site}/v/{dance.pk}/poster.jpg?s={share.token}"
