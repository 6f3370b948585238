"""Media files with HTTP byte ranges.

iOS web views refuse to play an MP4 whose server ignores `Range`, and Django's
own file responses (and `django.views.static.serve`) ignore it. This view is
for the app serving its own media. Behind nginx it can hand the sending to nginx
(`MEDIA_ACCEL_REDIRECT`), still deciding who may have the file (README, "Media in
production").
"""

import mimetypes
import posixpath
import re
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.http import FileResponse, HttpResponse, HttpResponseNotFound
from django.utils._os import safe_join
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.views.decorators.http import require_safe

from miniapp.videos.models import Video
from miniapp.videos.selectors import media_video_status

RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 64 * 1024
# A file's bytes never change (each video has a never-reused folder, videos/<uuid>/), but
# whether it may be served does: a moderator's takedown must reach shared caches (a CDN)
# within a minute, so they keep a file 60 s and then ask again (If-None-Match: a 304 while
# the video is up, a 404 once it is down). A browser keeps it a day: that copy is only
# for someone who has already watched it.
CACHE_CONTROL = "public, max-age=86400, s-maxage=60, must-revalidate"
# Staff reviewing a taken-down video: nothing may keep a copy.
UNCACHED = "private, no-store"


class RangeFile:
    """The part [start, start + length) of a file, read in chunks as FileResponse streams it."""

    def __init__(self, path: Path, start: int, length: int):
        self.file = open(path, "rb")  # noqa: SIM115  (FileResponse closes it)
        self.file.seek(start)
        self.remaining = length

    def read(self, size: int = CHUNK) -> bytes:
        if self.remaining <= 0:
            return b""
        data = self.file.read(min(size, self.remaining, CHUNK))
        self.remaining -= len(data)
        return data

    def close(self) -> None:
        self.file.close()


def parse_range(header: str, size: int) -> tuple[int, int] | None | bool:
    """(start, end) inclusive for a satisfiable single range; False if unsatisfiable;
    None when there is no usable Range header (malformed or multiple ranges: send it all)."""
    match = RANGE_RE.match(header.strip())
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":  # the last N bytes
        length = int(last)
        if length == 0:
            return False
        return max(size - length, 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if last and int(last) < start:
        return None  # RFC 9110: an invalid range-spec makes the header ignorable
    if start >= size:
        return False
    return start, end


def accel_redirect(path: str, *, taken_down: bool) -> HttpResponse:
    """Let nginx send the file from its internal location (ranges, conditional requests,
    sendfile): the app only decided that this request may have it."""
    response = HttpResponse()
    del response["Content-Type"]  # nginx sets it from the file
    response["X-Accel-Redirect"] = settings.MEDIA_ACCEL_REDIRECT + quote(path)
    response["Cache-Control"] = UNCACHED if taken_down else CACHE_CONTROL
    return response


def not_found() -> HttpResponse:
    """A file that is missing or withheld. Not kept by any cache: a video restored after a
    takedown must play again at once, and a 404 is otherwise cacheable by default."""
    response = HttpResponseNotFound()
    response["Cache-Control"] = "no-store"
    return response


@require_safe
def serve(request, path: str):
    # Only the one spelling of a path: "videos//x/.." and the like could dodge the check below.
    if posixpath.normpath(path) != path or path.startswith("/"):
        return not_found()
    status = media_video_status(path)
    taken_down = status is not None and status != Video.Status.PUBLISHED
    if taken_down and not (request.user.is_authenticated and request.user.is_staff):
        return not_found()
    try:
        full = Path(safe_join(settings.MEDIA_ROOT, path))
    except Exception:  # SuspiciousFileOperation and friends: never outside MEDIA_ROOT
        return not_found()
    if not full.is_file():
        return not_found()
    if settings.MEDIA_ACCEL_REDIRECT:
        return accel_redirect(path, taken_down=taken_down)
    stat = full.stat()
    size = stat.st_size
    etag = f'"{stat.st_mtime_ns:x}-{size:x}"'
    last_modified = http_date(stat.st_mtime)
    content_type = mimetypes.guess_type(full.name)[0] or "application/octet-stream"
    cache_control = UNCACHED if taken_down else CACHE_CONTROL

    # Django's RFC 9110 preconditions: If-None-Match (a list, weak comparison, `*`) before
    # If-Modified-Since, and If-Match / If-Unmodified-Since (412).
    precondition = get_conditional_response(request, etag=etag, last_modified=int(stat.st_mtime))
    if precondition is not None:
        if precondition.status_code == 304:
            precondition["ETag"], precondition["Last-Modified"] = etag, last_modified
            precondition["Cache-Control"] = cache_control
        return precondition

    wanted = parse_range(request.headers.get("Range", ""), size)
    if_range = request.headers.get("If-Range")
    if if_range and if_range not in (etag, last_modified):
        wanted = None  # the client's copy is stale: send the whole new file

    if wanted is False:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
    else:
        start, end = wanted or (0, size - 1)
        length = end - start + 1
        status = 206 if wanted else 200
        if request.method == "HEAD":
            response = HttpResponse(status=status, content_type=content_type)
        else:
            response = FileResponse(RangeFile(full, start, length), status=status, content_type=content_type)
        if wanted:
            response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    response["ETag"] = etag
    response["Last-Modified"] = last_modified
    response["Cache-Control"] = cache_control
    return response
