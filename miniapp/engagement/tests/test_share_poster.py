"""The share poster (`/v/<id>/poster.jpg`): a phone-sized JPEG whose QR code, read back by a
real decoder (zxing-cpp), is exactly the link the share sheet's QR code gives."""

import io

import pytest
import zxingcpp
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from PIL import Image, ImageFont

from miniapp.engagement import poster, services
from miniapp.engagement.selectors import share_url
from miniapp.lib import fonts
from miniapp.lib.site import absolute_url
from miniapp.videos.models import Video
from tests.fixtures.factories import make_video

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def video(users, media):
    """Erin's video, with a cover: orange above, dark below, as a 360×640 poster frame."""
    video = make_video(users["erin"], title="老王的葡萄")
    cover = Image.new("RGB", (360, 640), (40, 40, 40))
    cover.paste((230, 120, 30), (0, 0, 360, 320))
    out = io.BytesIO()
    cover.save(out, format="JPEG")
    default_storage.save(video.poster.name, ContentFile(out.getvalue()))
    return video


@pytest.fixture
def alices_share(users, video):
    share, _ = services.share_create(
        sharer=users["alice"], video=video, recipients=[users["bob"]], note="这是我们村的老王"
    )
    return share


def image_of(response) -> Image.Image:
    assert response.status_code == 200, response.content[:200]
    assert response["Content-Type"] == "image/jpeg"
    return Image.open(io.BytesIO(response.content))


def qr_text(image: Image.Image) -> str:
    found = [code.text for code in zxingcpp.read_barcodes(image.convert("RGB")) if code.format.name == "QRCode"]
    assert len(found) == 1, found
    return found[0]


def test_it_is_a_phone_sized_jpeg_whose_qr_code_is_the_share_link(client, video, alices_share):
    image = image_of(client.get(f"/v/{video.pk}/poster.jpg", {"s": alices_share.token}))
    assert (image.format, image.size, image.mode) == ("JPEG", (750, 1334), "RGB")
    assert qr_text(image) == share_url(alices_share)
    assert share_url(alices_share).endswith(f"/v/{video.pk}/?s={alices_share.token}")


def test_without_a_share_it_is_the_videos_plain_link(client, video, alices_share):
    plain = absolute_url(f"/v/{video.pk}/")
    shared = client.get(f"/v/{video.pk}/poster.jpg", {"s": alices_share.token}).content
    for params in ({}, {"s": "forged"}, {"s": "\x00"}, {"s": "x" * 5000}):
        response = client.get(f"/v/{video.pk}/poster.jpg", params)
        assert qr_text(image_of(response)) == plain
        assert response.content != shared  # no sharer on it: the product's name instead


def test_another_videos_share_is_no_share(client, users, video, alices_share):
    other = make_video(users["erin"], title="别的视频")
    assert qr_text(image_of(client.get(f"/v/{other.pk}/poster.jpg", {"s": alices_share.token}))) == absolute_url(
        f"/v/{other.pk}/"
    )


def test_it_shows_the_cover(client, video):
    image = image_of(client.get(f"/v/{video.pk}/poster.jpg"))
    r, g, b = image.getpixel((375, 400))  # the cover's orange top half, under the header
    assert r > 180 and 80 < g < 160 and b < 80


def test_a_hidden_or_removed_video_answers_as_its_qr_code_does(client, users, video, alices_share):
    staff = Client()
    users["dave"].is_staff = True
    users["dave"].save()
    staff.force_login(users["dave"])
    for status in (Video.Status.HIDDEN, Video.Status.REMOVED):
        Video.objects.filter(pk=video.pk).update(status=status)
        for browser in (client, staff):
            poster_answer = browser.get(f"/v/{video.pk}/poster.jpg", {"s": alices_share.token})
            qr_answer = browser.get(f"/v/{video.pk}/qr.svg", {"s": alices_share.token})
            assert poster_answer.status_code == qr_answer.status_code == 404
            assert poster_answer["Content-Type"] == qr_answer["Content-Type"]
    assert client.get("/v/999999/poster.jpg").status_code == 404


@pytest.mark.parametrize(
    "note",
    [
        "<b>真的</b> <script>alert(1)</script> &amp; \"'",
        "😂👍🏽 emoji only 🇨🇳",
        "\u202eRTL override\u202c and مرحبا and \u200bzero\u200bwidth",
        "第一行\n\n第二行\t\t第三行",
        "长" * 140,
        "x" * 140,
    ],
    ids=["html", "emoji", "bidi", "newlines", "long-cjk", "long-word"],
)
def test_an_odd_note_is_drawn_and_the_qr_code_still_reads(client, users, video, note):
    share, _ = services.share_create(sharer=users["alice"], video=video, recipients=[users["bob"]], note=note)
    assert qr_text(image_of(client.get(f"/v/{video.pk}/poster.jpg", {"s": share.token}))) == share_url(share)


def test_an_odd_long_title_is_drawn(client, users, video):
    long = make_video(users["erin"], title="葡萄 grapes " * 8)  # 80 characters, the most a title has
    Video.objects.filter(pk=long.pk).update(poster=video.poster.name)
    assert qr_text(image_of(client.get(f"/v/{long.pk}/poster.jpg"))) == absolute_url(f"/v/{long.pk}/")


def test_a_missing_cover_is_no_error(client, users, media):
    bare = make_video(users["erin"], title="没有封面")  # its poster file was never written
    assert qr_text(image_of(client.get(f"/v/{bare.pk}/poster.jpg"))) == absolute_url(f"/v/{bare.pk}/")


def test_it_is_in_the_requests_language_and_caches_say_so(client, video, alices_share):
    path = f"/v/{video.pk}/poster.jpg?s={alices_share.token}"
    chinese = client.get(path, HTTP_ACCEPT_LANGUAGE="zh-CN")
    english = client.get(path, HTTP_ACCEPT_LANGUAGE="en")
    assert chinese.content != english.content and chinese["ETag"] != english["ETag"]
    vary = {name.strip() for name in english["Vary"].split(",")}
    assert {"Accept-Language", "Cookie"} <= vary
    assert english["Cache-Control"] == "public, max-age=3600, s-maxage=60, must-revalidate"
    again = client.get(path, HTTP_ACCEPT_LANGUAGE="en", HTTP_IF_NONE_MATCH=english["ETag"])
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == english["ETag"]


def test_a_changed_title_or_note_is_a_new_etag(client, video, alices_share):
    path = f"/v/{video.pk}/poster.jpg?s={alices_share.token}"
    first = client.get(path)["ETag"]
    Video.objects.filter(pk=video.pk).update(title="新标题")
    second = client.get(path, HTTP_IF_NONE_MATCH=first)
    assert second.status_code == 200 and second["ETag"] != first


def test_it_rejects_post(client, video):
    assert client.post(f"/v/{video.pk}/poster.jpg").status_code == 405


def test_an_avatar_on_our_media_is_drawn_and_any_other_is_a_letter(settings, client, users, video, alices_share):
    alice = users["alice"]
    black = io.BytesIO()  # no letter disc is this dark
    Image.new("RGB", (96, 96), (0, 0, 0)).save(black, format="PNG")
    name = default_storage.save("avatars/alice.png", ContentFile(black.getvalue()))
    path = f"/v/{video.pk}/poster.jpg?s={alices_share.token}"
    centre = (poster.LEFT + 44, poster.MARGIN + poster.PAD + 44)
    for avatar_url in (absolute_url(settings.MEDIA_URL + name), settings.MEDIA_URL + name):
        alice.avatar_url = avatar_url
        alice.save()
        assert max(image_of(client.get(path)).getpixel(centre)) < 40  # the black image
    for elsewhere in ("https://thirdwx.qlogo.cn/mmopen/x/132", alice.avatar_url.replace("alice.png", "../x.png")):
        alice.avatar_url = elsewhere
        alice.save()
        assert poster._media_image(elsewhere) is None  # read from our storage only: never fetched
        assert max(image_of(client.get(path)).getpixel(centre)) > 100  # a letter on a coloured disc


def test_without_a_chinese_font_it_draws_no_boxes(monkeypatch, client, video, alices_share):
    """A machine with no CJK font: Pillow's own Latin font, Chinese left out, the QR code whole."""
    monkeypatch.setattr(poster, "font", lambda size, bold=False: ImageFont.load_default(size))
    image = image_of(client.get(f"/v/{video.pk}/poster.jpg", {"s": alices_share.token}))
    assert qr_text(image) == share_url(alices_share)
    assert fonts.drawable(ImageFont.load_default(20), "广场舞 dance 😂") == " dance "


def test_the_chinese_font_draws_chinese_but_no_emoji():
    face = fonts.font(28)
    if fonts.face() is None:
        pytest.skip("no font with Chinese glyphs on this machine (CI installs fonts-noto-cjk)")
    assert fonts.drawable(face, "广场舞 dance 😂") == "广场舞 dance "


def test_a_poster_is_drawn_once_whatever_else_the_request_holds(monkeypatch, client, video, alices_share):
    from miniapp.engagement import views

    drawn = []
    monkeypatch.setattr(views, "poster_jpeg", lambda **kwargs: drawn.append(kwargs) or poster.poster_jpeg(**kwargs))
    path = f"/v/{video.pk}/poster.jpg?s={alices_share.token}"
    first = client.get(path)
    second = Client().get(f"{path}&x=1")  # another visitor, a query string a cache would keep apart
    assert first.content == second.content and len(drawn) == 1
    Video.objects.filter(pk=video.pk).update(title="新标题")
    client.get(path)
    assert len(drawn) == 2  # what is on it changed: drawn again
