from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from miniapp.moderation.services import video_moderate
from miniapp.videos.models import Video
from miniapp.videos.tests.samples import (
    animated_gif,
    audio_only,
    brightness,
    dark_then_bright,
    encode,
    first_half,
    packed_audio,
)

pytestmark = pytest.mark.django_db


def upload(client, path: Path, *, title="我的视频", description="说明", name=None, **fields):
    file = SimpleUploadedFile(name or path.name, path.read_bytes(), content_type="video/mp4")
    return client.post("/api/videos/", {"file": file, "title": title, "description": description, **fields})


def stored_files(media) -> list[Path]:
    return [p for p in Path(media).rglob("*") if p.is_file()] if Path(media).exists() else []


def test_it_accepts_a_video_and_serves_it(client, users, media, tmp_path):
    client.force_login(users["alice"])
    response = upload(client, encode(tmp_path / "clip.mp4", codec="mpeg4", seconds=2))
    assert response.status_code == 201, response.content
    card = response.json()
    video = Video.objects.get(pk=card["id"])
    assert video.author == users["alice"] and video.title == "我的视频"
    assert video.duration == pytest.approx(2, abs=0.2)
    assert sorted(p.name for p in stored_files(media)) == ["card.jpg", "poster.jpg", "poster.webp", "video.mp4"]
    served = client.get(card["video_url"].removeprefix("http://testserver"), HTTP_RANGE="bytes=0-7")
    assert served.status_code == 206
    assert b"ftyp" in b"".join(served.streaming_content)


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda d: d.joinpath("notes.mp4").write_text("hello, not a video") and d / "notes.mp4", "not_video"),
        (lambda d: first_half(encode(d / "whole.mp4", codec="libx264", seconds=3), d / "half.mp4"), "truncated"),
        (lambda d: audio_only(d / "song.m4a"), "no_video"),
        (
            lambda d: encode(d / "long.mp4", codec="libx264", seconds=61, width=64, height=64, fps=2, audio=False),
            "too_long",
        ),
        (lambda d: Image.new("RGB", (64, 64)).save(d / "photo.jpg") or d / "photo.jpg", "image"),
        # Issue 14: 7 minutes of sound in 20,000 tiny packets, stamped as 2 s, cost seconds of CPU to transcode.
        (lambda d: packed_audio(d / "chatty.mp4", packets=20_000), "too_much_audio"),
    ],
    ids=["text", "truncated", "audio-only", "61s", "image", "audio-flood"],
)
def test_it_rejects_what_is_not_an_acceptable_video(client, users, media, tmp_path, make, code):
    client.force_login(users["alice"])
    response = upload(client, make(tmp_path))
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == code
    assert body["detail"]  # a sentence a person can act on
    assert not Video.objects.exists()
    assert stored_files(media) == []


def test_it_refuses_a_file_over_the_limit(client, users, media, settings, tmp_path):
    settings.VIDEO_MAX_BYTES = 2_000
    client.force_login(users["alice"])
    source = encode(tmp_path / "big.mp4", codec="mpeg4", seconds=3, width=320, height=568)
    assert source.stat().st_size > 2_000
    response = upload(client, source)
    assert response.status_code == 413
    assert "MB" in response.json()["detail"]
    assert not Video.objects.exists()


def test_it_refuses_a_body_declared_too_big_before_reading_it(client, users, media, settings):
    settings.VIDEO_MAX_BYTES = 1024 * 1024
    client.force_login(users["alice"])
    response = client.post(
        "/api/videos/", b"x", content_type="multipart/form-data; boundary=x", CONTENT_LENGTH=51 * 1024 * 1024
    )
    assert response.status_code == 413


def test_it_needs_a_title(client, users, media, tmp_path):
    client.force_login(users["alice"])
    response = upload(client, encode(tmp_path / "clip.mp4", seconds=2), title="")
    assert response.status_code == 400
    assert "title" in response.json()


def test_anonymous_uploads_are_refused(client, media, tmp_path, db):
    response = upload(client, encode(tmp_path / "clip.mp4", seconds=2))
    assert response.status_code == 403
    assert response.json()["login_url"] == "/login/"


def test_uploads_need_csrf(users, media, tmp_path):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(users["alice"])
    response = upload(strict, encode(tmp_path / "clip.mp4", seconds=2))
    assert response.status_code == 403
    assert not Video.objects.exists()


@pytest.mark.parametrize(
    "title,char",
    [
        ("bell\x07", "U+0007"),
        ("two\nlines", "U+000A"),
        ("ali\u200bce", "U+200B"),
        ("\u202eecila", "U+202E"),
        ("ali\u3164ce", "U+3164"),
        ("\u2800", "U+2800"),
    ],
)
def test_it_refuses_control_and_invisible_characters_in_titles(client, users, media, tmp_path, title, char):
    client.force_login(users["alice"])
    response = upload(client, encode(tmp_path / "clip.mp4", seconds=2), title=title)
    assert response.status_code == 400, response.content
    assert char in response.json()["title"][0]
    assert not Video.objects.exists()


def test_it_stores_titles_and_descriptions_composed(client, users, media, tmp_path):
    """NFC, as every text: a decomposed "é" (e + U+0301) is stored as the one character é."""
    client.force_login(users["alice"])
    response = upload(
        client, encode(tmp_path / "clip.mp4", seconds=2), title="Cafe\u0301", description="re\u0301sume\u0301"
    )
    assert response.status_code == 201, response.content
    video = Video.objects.get()
    assert (video.title, video.description) == ("Caf\u00e9", "r\u00e9sum\u00e9")


def test_it_refuses_control_characters_in_descriptions_but_keeps_line_breaks(client, users, media, tmp_path):
    client.force_login(users["alice"])
    clip = encode(tmp_path / "clip.mp4", seconds=2)
    refused = upload(client, clip, description="red \x1b[31mtext")
    assert refused.status_code == 400, refused.content
    assert "description" in refused.json()
    accepted = upload(client, clip, description="第一行\n第二行\twith a tab")
    assert accepted.status_code == 201, accepted.content
    assert accepted.json()["description"] == "第一行\n第二行\twith a tab"


def hls_playlist(path: Path, *, segment: Path, padding: int) -> Path:
    """An HLS playlist whose one segment is `segment`, padded with a comment to `padding` bytes."""
    text = f"#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXTINF:3.0,\nfile://{segment}\n#EXT-X-ENDLIST\n"
    path.write_text(text + "#" + "x" * max(0, padding - len(text)) + "\n")
    return path


@pytest.fixture
def hidden_video_file(client, users, media, tmp_path) -> Path:
    """The file of a video bob uploaded and a moderator then hid."""
    client.force_login(users["bob"])
    response = upload(client, encode(tmp_path / "bob.mp4", codec="libx264", seconds=3))
    assert response.status_code == 201, response.content
    video = Video.objects.get(pk=response.json()["id"])
    video_moderate(video=video, kind="hide", moderator=None, reason="test")
    return Path(media) / video.file.name


@pytest.mark.parametrize("target", ["hidden", "outside"])
@pytest.mark.parametrize(
    "padding",
    [3 * 1024 * 1024, 0],  # spooled to a temporary file (over FILE_UPLOAD_MAX_MEMORY_SIZE), and kept in memory
    ids=["spooled", "in-memory"],
)
def test_it_refuses_a_playlist_that_points_at_another_file(
    client, users, media, tmp_path, hidden_video_file, target, padding
):
    """Issue 14: FFmpeg read such an upload as HLS and republished the file it names."""
    segment = hidden_video_file if target == "hidden" else encode(tmp_path / "elsewhere.mp4", codec="libx264")
    before = sorted(stored_files(media))
    client.force_login(users["alice"])
    response = upload(client, hls_playlist(tmp_path / "list.m3u8", segment=segment, padding=padding))
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "not_video"
    assert not Video.objects.filter(author=users["alice"]).exists()
    assert sorted(stored_files(media)) == before


def test_it_refuses_an_animated_gif(client, users, media, tmp_path):
    client.force_login(users["alice"])
    response = upload(client, animated_gif(tmp_path / "dance.gif"))
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "not_video"
    assert not Video.objects.exists()


def test_it_refuses_444_video_before_transcoding_it(client, users, media, tmp_path):
    """Issue 14: 4:4:4 H.264 (no phone records it) had to be transcoded, at many times a phone clip's cost."""
    client.force_login(users["alice"])
    response = upload(client, encode(tmp_path / "clip.mp4", codec="libx264", pix_fmt="yuv444p", audio=False))
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "encoding"
    assert "yuv444p" in body["detail"] and "4:2:0" in body["detail"]
    assert not Video.objects.exists()
    assert stored_files(media) == []


def test_it_refuses_past_the_configured_limits(client, users, media, settings, tmp_path):
    client.force_login(users["alice"])
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    settings.VIDEO_MAX_FPS = 30
    fast = upload(client, encode(tmp_path / "fast.mp4", width=32, height=32, fps=50, audio=False))
    assert (fast.status_code, fast.json()["code"]) == (400, "frame_rate")
    assert "30" in fast.json()["detail"]
    settings.VIDEO_MAX_LONG_SIDE, settings.VIDEO_MAX_SHORT_SIDE = 128, 96
    big = upload(client, encode(tmp_path / "big.mp4", width=96, height=160, audio=False))
    assert (big.status_code, big.json()["code"]) == (400, "resolution")
    assert "96×160" in big.json()["detail"]
    settings.VIDEO_MAX_MEGAPIXELS = 1
    heavy = upload(client, encode(tmp_path / "heavy.mp4", width=96, height=96, fps=30, seconds=4, audio=False))
    assert (heavy.status_code, heavy.json()["code"]) == (400, "too_many_pixels")
    assert "3 seconds" in heavy.json()["detail"]  # 1,000,000 / (96 × 96 × 30) = 3.6
    assert not Video.objects.exists()


def test_the_uploader_chooses_the_cover(client, users, media, tmp_path):
    client.force_login(users["alice"])
    response = upload(client, dark_then_bright(tmp_path / "clip.mp4"), cover_at="4.5")
    assert response.status_code == 201, response.content
    assert brightness(Path(Video.objects.get(pk=response.json()["id"]).poster.path)) > 128  # the bright half


@pytest.mark.parametrize("cover_at", ["-1", "abc", "7200"])
def test_a_cover_time_that_is_not_one_is_refused(client, users, media, tmp_path, cover_at):
    client.force_login(users["alice"])
    response = upload(client, encode(tmp_path / "clip.mp4", codec="mpeg4", seconds=2), cover_at=cover_at)
    assert response.status_code == 400 and response.json()["cover_at"]
    assert stored_files(media) == []
