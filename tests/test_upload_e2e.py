"""Uploads over real HTTP to Daphne: a phone's clip uploaded on /upload/ plays in Chromium, and
an HLS playlist naming another file on the server (issue 14) is refused."""

import contextlib
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from miniapp.videos.tests.samples import encode
from tests.fixtures.personas import signin, with_csrf
from tests.fixtures.servers import screenshot, signed_in_page

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def signed_in_session(site: str, nickname: str) -> requests.Session:
    session = requests.Session()
    assert signin(session, site, nickname).status_code == 200
    return with_csrf(session)


def post_video(session: requests.Session, site: str, path: Path, *, title: str) -> requests.Response:
    with path.open("rb") as file:
        return session.post(
            f"{site}/api/videos/", files={"file": (path.name, file, "video/mp4")}, data={"title": title}, timeout=60
        )


@pytest.mark.parametrize(
    "name,codec",
    [("phone.mp4", "libx264"), ("phone.mov", "mpeg4")],
    ids=["h264-copied", "mpeg4-transcoded"],
)
def test_a_phone_clip_uploaded_on_the_page_plays(site, phone, tmp_path, name, codec):
    clip = encode(tmp_path / name, codec=codec, width=360, height=640, fps=30, seconds=3)
    page = signed_in_page(phone(), site, "alice", "/upload/")
    page.set_input_files("input[name=file]", str(clip))
    page.fill("input[name=title]", "我的视频")
    page.click("button[type=submit]")
    page.wait_for_url(f"{site}/v/*/", timeout=60_000)
    page.wait_for_function("document.querySelector('video').currentTime > 0.3")


def test_a_playlist_naming_a_file_on_the_server_is_refused(site, media_dir, tmp_path):
    from miniapp.moderation.services import video_moderate
    from miniapp.videos.models import Video

    bob = signed_in_session(site, "bob")
    uploaded = post_video(bob, site, encode(tmp_path / "bob.mp4", codec="libx264"), title="bob's")
    assert uploaded.status_code == 201, uploaded.text
    hidden = Video.objects.get(pk=uploaded.json()["id"])
    video_moderate(video=hidden, kind="hide", moderator=None, reason="test")

    alice = signed_in_session(site, "alice")
    for target in (Path(media_dir) / hidden.file.name, encode(tmp_path / "elsewhere.mp4", codec="libx264")):
        playlist = tmp_path / "list.m3u8"  # over 2.5 MB: Django spools it to a temporary file
        playlist.write_text(
            f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:3.0,\nfile://{target}\n#EXT-X-ENDLIST\n#{'x' * 3_000_000}\n"
        )
        response = post_video(alice, site, playlist, title="not mine")
        assert response.status_code == 400, response.text
        assert response.json()["code"] == "not_video"
    assert list(Video.objects.values_list("pk", flat=True)) == [hidden.pk]


def test_publishing_from_the_plus_with_a_chosen_cover_and_a_cancel(site, phone, tmp_path):
    from miniapp.videos.models import Video
    from miniapp.videos.tests.samples import brightness, dark_then_bright

    clip = dark_then_bright(tmp_path / "clip.mp4", codec="libx264")  # dark, then bright from 3 s
    page = signed_in_page(phone(), site, "alice", "/me/")
    page.locator(".tab-publish").click()
    page.wait_for_url(f"{site}/upload/")
    expect(page.locator(".publish-source")).to_have_count(2)  # 拍摄 and 从相册选择, no bare file control
    assert page.locator("input[name=record]").get_attribute("capture") == "environment"
    screenshot(page, "publish-pick")

    page.set_input_files("input[name=file]", str(clip))
    expect(page.locator(".publish-edit")).to_be_visible()
    submit = page.locator(".publish-submit")
    expect(submit).to_be_disabled()  # no title yet, and it looks it
    expect(page.locator(".publish-cover")).to_have_count(8)
    page.locator(".publish-cover").nth(6).click()  # a frame in the bright half
    expect(page.locator(".publish-cover").nth(6)).to_have_attribute("aria-checked", "true")
    page.fill("input[name=title]", "老王的麦田")
    expect(page.locator(".publish-count[data-for=title]")).to_have_text("5/80")
    expect(submit).to_be_enabled()
    screenshot(page, "publish-edit")

    held = []
    page.route("**/api/videos/", lambda route: held.append(route))  # the upload does not get through
    submit.click()
    expect(page.locator(".publish-sending")).to_be_visible()
    screenshot(page, "publish-sending")
    page.locator(".publish-cancel").click()
    expect(page.locator(".upload-status")).to_contain_text("已取消")
    expect(page.locator("input[name=title]")).to_have_value("老王的麦田")  # nothing lost
    assert Video.objects.count() == 0
    # The browser cancelled the request while the route held it; unrouting alone would let the held
    # request go on to the server (a second video). Over a real network the cancel closes the upload.
    for route in held:
        with contextlib.suppress(PlaywrightError):  # the browser may have let it go already
            route.abort()
    page.unroute("**/api/videos/")

    submit.click()
    page.wait_for_url(f"{site}/v/*/", timeout=60_000)
    video = Video.objects.get(title="老王的麦田")
    assert brightness(Path(video.poster.path)) > 128  # the cover chosen, not the first second
