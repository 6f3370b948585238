"""Share cards (og:image): sources are made here at test time with Pillow and PyAV."""

import logging
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from miniapp.videos import share_card
from miniapp.videos.models import Video
from miniapp.videos.processing import VideoRejected, prepare
from miniapp.videos.services import video_card_ensure, video_create
from miniapp.videos.share_card import CARD_SIZE, write_card
from miniapp.videos.tests.samples import encode, first_half
from tests.fixtures.factories import make_video


def poster(path: Path, size: tuple[int, int], *, mode: str = "RGB") -> Path:
    """A JPEG with a bright top half and a dark bottom half, so placement shows."""
    pixels = np.full((size[1], size[0], 3), 40, np.uint8)
    pixels[: size[1] // 2] = (230, 120, 30)
    Image.fromarray(pixels).convert(mode).save(path, format="JPEG", quality=90)
    return path


def jpeg_bytes(size=(360, 640)) -> bytes:
    buffer = BytesIO()
    Image.new("RGB", size, (200, 60, 60)).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("size", "mode"),
    [((360, 640), "RGB"), ((1280, 720), "RGB"), ((500, 500), "RGB"), ((96, 160), "L"), ((300, 200), "CMYK")],
    ids=["portrait", "landscape", "square", "tiny-grey", "cmyk"],
)
def test_it_writes_a_1200x630_jpeg(tmp_path, size, mode):
    card = tmp_path / "card.jpg"
    write_card(poster(tmp_path / "poster.jpg", size, mode=mode), card)
    with Image.open(card) as image:
        assert (image.format, image.size, image.mode) == ("JPEG", CARD_SIZE, "RGB")
        assert image.info.get("progressive")


def test_it_shows_the_whole_portrait_poster_over_a_darker_background(tmp_path):
    card = tmp_path / "card.jpg"
    write_card(poster(tmp_path / "poster.jpg", (360, 640)), card)
    with Image.open(card) as image:
        pixels = np.asarray(image, dtype=float)
    # The poster is fitted to the height (354 px wide, centred); its bright top reaches the top edge.
    assert pixels[5, 600] == pytest.approx((230, 120, 30), abs=12)
    assert pixels[625, 600] == pytest.approx((40, 40, 40), abs=12)
    # Beside it, the blurred background is darker than the poster's bright half.
    assert pixels[5, 60].mean() < pixels[5, 600].mean() - 40
    # The play button's translucent white disc lightens the dark half at the centre.
    assert pixels[315 + 60, 600].mean() > pixels[600, 600].mean() + 80


def test_it_fits_a_wide_poster_to_the_width(tmp_path):
    card = tmp_path / "card.jpg"
    write_card(poster(tmp_path / "poster.jpg", (1200, 400)), card)
    with Image.open(card) as image:
        pixels = np.asarray(image, dtype=float)
    # 1200×400 fills the width; bands of blurred background stay above and below.
    assert pixels[130, 20] == pytest.approx((230, 120, 30), abs=12)
    assert pixels[5, 20].mean() < pixels[130, 20].mean() - 40


def test_it_refuses_a_file_that_is_not_an_image(tmp_path):
    (tmp_path / "poster.jpg").write_text("not a picture")
    with pytest.raises(OSError):
        write_card(tmp_path / "poster.jpg", tmp_path / "card.jpg")


def test_prepare_writes_a_card(tmp_path):
    out_dir = tmp_path / "out"
    prepared = prepare(encode(tmp_path / "clip.mp4", codec="libx264", seconds=2), out_dir=out_dir)
    assert prepared.card_path == out_dir / "card.jpg"
    assert sorted(p.name for p in out_dir.iterdir()) == ["card.jpg", "poster.jpg", "poster.webp", "video.mp4"]
    with Image.open(prepared.card_path) as image:
        assert (image.format, image.size) == ("JPEG", CARD_SIZE)


def test_a_rejected_upload_leaves_no_card(tmp_path):
    out_dir = tmp_path / "out"
    whole = encode(tmp_path / "whole.mp4", codec="libx264", seconds=3)
    with pytest.raises(VideoRejected):
        prepare(first_half(whole, tmp_path / "half.mp4"), out_dir=out_dir)
    assert not out_dir.exists() or list(out_dir.iterdir()) == []


def test_a_failing_card_leaves_nothing_behind(tmp_path, monkeypatch):
    def broken_card(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(share_card, "write_card", broken_card)
    out_dir = tmp_path / "out"
    with pytest.raises(VideoRejected) as caught:
        prepare(encode(tmp_path / "clip.mp4", codec="libx264", seconds=2), out_dir=out_dir)
    assert caught.value.code == "failed"
    assert list(out_dir.iterdir()) == []


def test_video_create_stores_the_card(media, author, tmp_path):
    prepared = prepare(encode(tmp_path / "clip.mp4", codec="libx264", seconds=2), out_dir=tmp_path / "out")
    video = video_create(author=author, title="卡片", description="", prepared=prepared)
    video.refresh_from_db()
    folder = video.file.name.rsplit("/", 1)[0]
    assert video.card.name == f"{folder}/card.jpg"
    with Image.open(media / video.card.name) as image:
        assert (image.format, image.size) == ("JPEG", CARD_SIZE)


def old_video(author, *, poster: bytes | None) -> tuple[Video, str]:
    """A video from before cards existed, with its poster file stored (unless `poster` is None)."""
    video = make_video(author)
    if poster is not None:
        default_storage.save(video.poster.name, ContentFile(poster))
    return video, video.poster.name.rsplit("/", 1)[0]


def test_ensure_fills_a_missing_card(media, author):
    video, folder = old_video(author, poster=jpeg_bytes())
    assert not video.card
    video_card_ensure(video)
    assert video.card.name == f"{folder}/card.jpg"
    assert Video.objects.get(pk=video.pk).card.name == f"{folder}/card.jpg"
    with Image.open(media / folder / "card.jpg") as image:
        assert (image.format, image.size) == ("JPEG", CARD_SIZE)
    video_card_ensure(video)  # already has one: nothing more is written
    assert sorted(p.name for p in (media / folder).iterdir()) == ["card.jpg", "poster.jpg"]


def test_ensure_is_a_no_op_without_the_poster_file(media, author, caplog):
    video, _ = old_video(author, poster=None)
    with caplog.at_level(logging.WARNING, logger="miniapp.videos.services"):
        video_card_ensure(video)
    assert not video.card
    assert not Video.objects.get(pk=video.pk).card
    assert "missing" in caplog.text


def test_ensure_logs_an_unreadable_poster_and_leaves_no_file(media, author, caplog):
    video, folder = old_video(author, poster=b"not a picture")
    with caplog.at_level(logging.WARNING, logger="miniapp.videos.services"):
        video_card_ensure(video)
    assert not video.card
    assert not Video.objects.get(pk=video.pk).card
    assert sorted(p.name for p in (media / folder).iterdir()) == ["poster.jpg"]
    assert "Could not make the share card" in caplog.text


def test_ensure_keeps_a_card_another_request_stored_first(media, author):
    video, folder = old_video(author, poster=jpeg_bytes())
    theirs = default_storage.save(f"{folder}/card.jpg", ContentFile(jpeg_bytes(CARD_SIZE)))
    Video.objects.filter(pk=video.pk).update(card=theirs)  # `video` still has an empty card
    video_card_ensure(video)
    assert video.card.name == theirs
    assert sorted(p.name for p in (media / folder).iterdir()) == ["card.jpg", "poster.jpg"]
