"""Page posters (WebP) beside the JPEG: made for new videos, made by migration 0007 for existing
ones, and the JPEG shown for a video that has none."""

import importlib
import logging
from io import BytesIO

import numpy as np
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from miniapp.videos.models import Video
from miniapp.videos.posters import PAGE_POSTER_SIDE, write_page_poster
from miniapp.videos.processing import prepare
from miniapp.videos.services import video_create
from miniapp.videos.tests.samples import encode
from tests.fixtures.factories import make_video

migration = importlib.import_module("miniapp.videos.migrations.0007_poster_webp")


def jpeg_bytes(size: tuple[int, int] = (360, 640)) -> bytes:
    """A noisy JPEG (noise: a picture that does not compress to nothing), as posters are saved."""
    pixels = np.random.default_rng(7).integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    out = BytesIO()
    Image.fromarray(pixels).save(out, format="JPEG", quality=85)
    return out.getvalue()


def test_the_page_poster_is_a_webp_of_the_same_picture_and_smaller(tmp_path):
    (tmp_path / "poster.jpg").write_bytes(jpeg_bytes())
    write_page_poster(tmp_path / "poster.jpg", tmp_path / "poster.webp")
    with Image.open(tmp_path / "poster.webp") as webp:
        assert (webp.format, webp.size) == ("WEBP", (360, 640))  # a small poster keeps its size
    assert (tmp_path / "poster.webp").stat().st_size < (tmp_path / "poster.jpg").stat().st_size


def test_a_large_poster_is_scaled_down_keeping_its_shape(tmp_path):
    (tmp_path / "poster.jpg").write_bytes(jpeg_bytes((1080, 1920)))
    write_page_poster(tmp_path / "poster.jpg", tmp_path / "poster.webp")
    with Image.open(tmp_path / "poster.webp") as webp:
        assert webp.size == (540, PAGE_POSTER_SIDE)


def test_prepare_and_video_create_store_the_page_poster(media, author, tmp_path):
    out_dir = tmp_path / "out"
    prepared = prepare(encode(tmp_path / "clip.mp4", codec="libx264", seconds=2), out_dir=out_dir)
    assert prepared.page_poster_path == out_dir / "poster.webp"
    with Image.open(prepared.page_poster_path) as webp, Image.open(prepared.poster_path) as jpeg:
        assert (webp.format, jpeg.format) == ("WEBP", "JPEG")
        assert webp.size == jpeg.size

    video = video_create(author=author, title="海报", description="", prepared=prepared)
    video.refresh_from_db()
    folder = video.file.name.rsplit("/", 1)[0]
    assert (video.poster.name, video.poster_webp.name) == (f"{folder}/poster.jpg", f"{folder}/poster.webp")
    assert video.page_poster.url == f"/media/{folder}/poster.webp"
    assert (media / folder / "poster.webp").is_file()


def test_the_feed_shows_the_webp_and_falls_back_to_the_jpeg(client, author):
    old = make_video(author, title="old")
    new = make_video(author, title="new", poster_webp="videos/new/poster.webp")
    posters = {card["id"]: card["poster_url"] for card in client.get("/api/videos/").json()["results"]}
    assert posters[old.pk].endswith(old.poster.url)  # made before WebP posters, and left without one
    assert posters[new.pk].endswith("/media/videos/new/poster.webp")


def test_the_feed_page_preloads_only_the_first_poster(client, author):
    second = make_video(author, title="second")
    make_video(author, title="first", poster_webp="videos/first/poster.webp")  # newest: the first slide
    page = client.get("/").content.decode()
    head = page[: page.index("</head>")]
    assert '<link rel="preload" as="image" href="/media/videos/first/poster.webp" fetchpriority="high">' in head
    assert page.count(' poster="') == 1  # the first slide's <video>; the others' come from the script
    assert ' poster="/media/videos/first/poster.webp"' in page
    assert f'data-poster="{second.poster.url}"' in page


def test_the_migration_makes_the_webp_of_existing_videos(media, author):
    video = make_video(author)
    default_storage.save(video.poster.name, ContentFile(jpeg_bytes()))
    migration.webp_posters_for_existing_videos(apps, None)
    video.refresh_from_db()
    folder = video.poster.name.rsplit("/", 1)[0]
    assert video.poster_webp.name == f"{folder}/poster.webp"
    assert video.page_poster == video.poster_webp
    with Image.open(media / video.poster_webp.name) as webp:
        assert (webp.format, webp.size) == ("WEBP", (360, 640))


def test_the_migration_leaves_a_video_without_a_readable_poster_on_its_jpeg(media, author, caplog):
    missing, unreadable = make_video(author), make_video(author)
    default_storage.save(unreadable.poster.name, ContentFile(b"not a picture"))
    with caplog.at_level(logging.WARNING):
        migration.webp_posters_for_existing_videos(apps, None)
    for video in (missing, unreadable):
        video.refresh_from_db()
        assert not video.poster_webp
        assert video.page_poster.url == video.poster.url
    assert caplog.text.count("No WebP poster for video") == 2
    assert sorted(p.name for p in (media / unreadable.poster.name).parent.iterdir()) == ["poster.jpg"]


def test_the_migration_keeps_a_webp_already_made(media, author):
    video = make_video(author, poster_webp="videos/kept/poster.webp")
    default_storage.save(video.poster.name, ContentFile(jpeg_bytes()))
    migration.webp_posters_for_existing_videos(apps, None)
    assert Video.objects.get(pk=video.pk).poster_webp.name == "videos/kept/poster.webp"
    assert not (media / video.poster.name).with_name("poster.webp").exists()
