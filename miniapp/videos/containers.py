"""Which files FFmpeg may open as videos, and how: one demuxer chosen from the file's own bytes, nothing else.

Left to itself, FFmpeg picks a demuxer by probing a file's first bytes and its name, and some
demuxers open more files: an HLS playlist or a concat list names its segments (`file:///…`),
a QuickTime file can point at external data (`dref`). An upload opened that way published any
file the server could read, a hidden video's too (issue 14). So an upload is sniffed here, by
its first bytes alone, as one of the containers phones record, and opened with that demuxer
forced, through a Python file object (no protocol, no file name), with every other open refused.
"""

import contextlib
import struct
from collections.abc import Iterator
from pathlib import Path

import av
from PIL import Image

# What phones and browsers record: ISO-BMFF and QuickTime (MP4, MOV, 3GP and 3G2: iPhone, Android,
# WeChat) and Matroska (WebM from browsers' MediaRecorder and screen recorders, MKV). FFmpeg reads
# each family with one demuxer, named by its first alias; neither reads anything but the file.
MOV = "mov"  # "mov,mp4,m4a,3gp,3g2,mj2"
MATROSKA = "matroska"  # "matroska,webm"
# What FFmpeg itself may open: another demuxer, were one ever asked for, fails to open.
_DEMUXERS = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm"
_CONTAINER_OPTIONS = {"format_whitelist": _DEMUXERS, "enable_drefs": "0"}
_EBML = b"\x1a\x45\xdf\xa3"  # the first bytes of every Matroska and WebM file
# ISO-BMFF brands of photos and photo bursts (HEIC, AVIF): the mov demuxer would read them too.
_IMAGE_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}
# Photos, told apart by Pillow from their bytes. An animated GIF, WebP or PNG is not a photo but
# is no video we take either.
_PHOTO_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF")
IMAGE = "image"


def sniff(path: Path) -> str | None:
    """MOV or MATROSKA (the demuxer to open `path` with), IMAGE for a photo, None for anything else.

    Only the file's bytes count: the name an upload came with says nothing.
    """
    with path.open("rb") as file:
        head = file.read(12)
    if head[4:8] == b"ftyp":  # ISO-BMFF and QuickTime files as phones write them start with it
        return IMAGE if head[8:12] in _IMAGE_BRANDS else MOV
    if head.startswith(_EBML):
        return MATROSKA
    return IMAGE if _is_photo(path) else None


def _is_photo(path: Path) -> bool:
    try:
        with Image.open(path, formats=_PHOTO_FORMATS) as image:
            return not getattr(image, "is_animated", False)
    except Image.DecompressionBombError:
        return True  # a very large photo is still a photo
    except Exception:  # UnidentifiedImageError mostly; whatever else a plugin raises on junk means no photo either
        return False


def mp4_cut_short(path: Path) -> bool:
    """True if `path` is an MP4/MOV file whose top-level boxes run past the end of the file.

    Every box declares its size, so an interrupted upload always ends inside one. This is exact,
    cheap (it reads a few headers) and works even when the cut removed the index (`moov`), where
    FFmpeg can't open the file at all and only says "invalid data".
    """
    size = path.stat().st_size
    with path.open("rb") as file:
        if file.read(8)[4:8] != b"ftyp":
            return False
        position = 0
        while position + 8 <= size:
            file.seek(position)
            header = file.read(16)
            box_size, kind = struct.unpack(">I4s", header[:8])
            if box_size == 1 and len(header) == 16:
                box_size = struct.unpack(">Q", header[8:])[0]
            elif box_size == 0:
                return False  # "runs to the end of the file"
            if box_size < 8 or not all(32 < byte < 127 for byte in kind):
                return False  # not a box: trailing junk, which FFmpeg judges on its own
            position += box_size
        return position > size


def _refuse_other_files(url: str, flags: int, options: dict):
    raise PermissionError(f"an upload may not open other files ({url!r})")


@contextlib.contextmanager
def open_input(path: Path, demuxer: str, *, max_pixels: int) -> Iterator[av.container.InputContainer]:
    """Open `path` with `demuxer` (MOV or MATROSKA) only; its decoders refuse pictures over `max_pixels`.

    The file goes to FFmpeg as a Python file object, so no protocol is involved and its name is
    never looked at, and any further open a demuxer attempts (data references, segments) fails.
    `max_pixels` also holds for the frames FFmpeg decodes while opening, to learn the streams.
    """
    with path.open("rb") as file, open_file(file, demuxer, max_pixels=max_pixels) as container:
        yield container


def open_file(
    file, demuxer: str, *, max_pixels: int, options: dict[str, str] | None = None
) -> av.container.InputContainer:
    """open_input() for a file object with `read` (and `seek` if it has one): a pipe for a live.
    `options` are more of the demuxer's (`analyzeduration`...)."""
    decoding = {"max_pixels": str(max_pixels)}
    container = av.open(
        file,
        format=demuxer,
        options=decoding,
        container_options={**_CONTAINER_OPTIONS, **(options or {})},
        io_open=_refuse_other_files,
        metadata_errors="ignore",
    )
    for stream in container.streams.video:
        if stream.codec_context is not None:  # None: no decoder, refused by the probe
            stream.codec_context.options = dict(decoding)
    return container
