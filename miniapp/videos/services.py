import contextlib
import logging
import posixpath
import shutil
import tempfile
from pathlib import Path

from django.core.files import File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from miniapp.accounts.models import User
from miniapp.videos import hotness, processing, share_card
from miniapp.videos.limits import Limits
from miniapp.videos.models import Video, media_folder

logger = logging.getLogger(__name__)


def _store(path: Path, name: str) -> str:
    with open(path, "rb") as handle:
        return default_storage.save(name, File(handle))


def video_create(
    *,
    author: User,
    title: str,
    description: str,
    prepared: processing.PreparedVideo,
    status: str = Video.Status.PUBLISHED,
) -> Video:
    """Store a prepared video's files and create its row; no files are left behind on failure."""
    folder = media_folder()
    stored: list[str] = []
    try:
        stored.append(_store(prepared.video_path, f"{folder}/video.mp4"))
        stored.append(_store(prepared.poster_path, f"{folder}/poster.jpg"))
        stored.append(_store(prepared.card_path, f"{folder}/card.jpg"))
        stored.append(_store(prepared.page_poster_path, f"{folder}/poster.webp"))
        video = Video(
            author=author,
            title=title,
            description=description,
            file=stored[0],
            poster=stored[1],
            card=stored[2],
            poster_webp=stored[3],
            duration=prepared.duration,
            size=prepared.size,
            width=prepared.width,
            height=prepared.height,
            status=status,
        )
        video.hot = hotness.base(video.created)
        video.full_clean()
        with transaction.atomic():
            video.save()
    except BaseException:
        for name in stored:
            default_storage.delete(name)
        raise
    return video


def video_create_from_upload(
    *, author: User, upload: UploadedFile, title: str, description: str, cover_at: float | None = None
) -> Video:
    """Probe, remux or transcode, and store an uploaded file, its poster the frame at `cover_at`
    seconds if the uploader chose one.

    Blocking CPU work: call it from a sync view (under ASGI it runs in a worker
    thread, off the event loop). Raises `processing.VideoRejected` with a message
    for the user when the file is not an acceptable video.
    """
    with tempfile.TemporaryDirectory(prefix="miniapp-upload-") as tmp:
        work = Path(tmp)
        if hasattr(upload, "temporary_file_path"):
            source = Path(upload.temporary_file_path())
        else:
            source = work / "upload"
            with open(source, "wb") as handle:
                for chunk in upload.chunks():
                    handle.write(chunk)
        out_dir = work / "out"
        out_dir.mkdir()
        prepared = processing.prepare(source, out_dir=out_dir, limits=Limits.from_settings(), cover_at=cover_at)
        return video_create(author=author, title=title, description=description, prepared=prepared)


def video_card_ensure(video: Video) -> None:
    """Give a video made before share cards existed its card, built from its poster.

    Best effort, for the share page: on any failure `card` stays empty and the page falls back
    to the poster, so nothing is raised. Blocking work (Pillow and storage): not for the event loop.
    """
    if video.card or not video.poster:
        return
    poster_name, stored = video.poster.name, None
    try:
        if not default_storage.exists(poster_name):
            logger.warning("No share card for video %s: its poster %s is missing", video.pk, poster_name)
            return
        with tempfile.TemporaryDirectory(prefix="miniapp-card-") as tmp:
            poster_path, card_path = Path(tmp) / "poster.jpg", Path(tmp) / "card.jpg"
            with default_storage.open(poster_name, "rb") as source, open(poster_path, "wb") as copy:
                shutil.copyfileobj(source, copy)
            share_card.write_card(poster_path, card_path)
            stored = _store(card_path, posixpath.join(posixpath.dirname(poster_name), "card.jpg"))
        # Only an empty card is filled: when two first shares race, the first card stays and the other goes.
        if Video.objects.filter(pk=video.pk, card="").update(card=stored):
            video.card = stored
            return
        default_storage.delete(stored)
        video.card = Video.objects.filter(pk=video.pk).values_list("card", flat=True).first() or ""
    except Exception:
        logger.warning("Could not make the share card for video %s", video.pk, exc_info=True)
        if stored is not None:
            with contextlib.suppress(Exception):
                default_storage.delete(stored)
