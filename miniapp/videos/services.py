import tempfile
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from miniapp.accounts.models import User
from miniapp.videos import processing
from miniapp.videos.models import Video, media_folder


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
        video = Video(
            author=author,
            title=title,
            description=description,
            file=stored[0],
            poster=stored[1],
            duration=prepared.duration,
            size=prepared.size,
            width=prepared.width,
            height=prepared.height,
            status=status,
        )
        video.full_clean()
        with transaction.atomic():
            video.save()
    except BaseException:
        for name in stored:
            default_storage.delete(name)
        raise
    return video


def video_create_from_upload(*, author: User, upload: UploadedFile, title: str, description: str) -> Video:
    """Probe, remux or transcode, and store an uploaded file.

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
        prepared = processing.prepare(
            source, out_dir=out_dir, max_seconds=settings.VIDEO_MAX_SECONDS, max_bytes=settings.VIDEO_MAX_BYTES
        )
        return video_create(author=author, title=title, description=description, prepared=prepared)
