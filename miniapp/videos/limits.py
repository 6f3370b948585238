"""What one upload may cost the server, and the checks that hold it to that.

Transcoding decodes every frame and encodes it again, so its cost grows with pixels × frames, and
with encodings that no phone records (issue 14: a minute of H.264 4:4:4, smaller than a photo, kept
a core busy far longer than any phone's clip; bench/upload_cost.py, bench/RESULTS.md). So an upload
is held to what a phone records: a few codecs in 4:2:0 colour, a frame size, a frame rate, and a
total of pixels × frames. The probe checks all of it from the container and the packets, before
decoding more than a frame or two; FrameBudget checks it again on every frame decoded, because
headers can lie.
"""

import math
from dataclasses import dataclass

from django.conf import settings

# What phones record, and browsers' MediaRecorder: H.264 and HEVC (MP4, MOV), VP8, VP9 and AV1
# (WebM), MPEG-4 Part 2 and H.263 (3GP, older phones). Named as FFmpeg names the codec.
VIDEO_CODECS = {"h264", "hevc", "vp8", "vp9", "av1", "mpeg4", "h263"}
# 4:2:0 colour, 8 or 10 bits (HDR). 4:2:2 and 4:4:4 come from editing and screen capture tools,
# carry up to twice the samples of 4:2:0, and would be turned into 4:2:0 anyway.
PIXEL_FORMATS = {"yuv420p", "yuvj420p", "nv12", "nv21", "yuv420p10le", "p010le"}


# Phones' "60 fps" wanders a little above 60 now and then, and timestamps are rounded.
_FPS_SLACK = 1.05


class OverLimit(Exception):
    """An upload past one of the limits: `code` names which, `values` fill in its message."""

    def __init__(self, code: str, **values):
        super().__init__(code, values)
        self.code = code
        self.values = values


@dataclass(frozen=True)
class Limits:
    """The most one upload may hold. Defaults as in settings.py, where each is explained."""

    seconds: float = 60
    bytes: int = 50 * 1024 * 1024
    long_side: int = 4096  # a frame fits in long_side × short_side, either way round
    short_side: int = 2160
    fps: float = 60
    megapixels: float = 7500  # pixels × frames, in millions, of the whole video

    @classmethod
    def from_settings(cls) -> "Limits":
        return cls(
            seconds=settings.VIDEO_MAX_SECONDS,
            bytes=settings.VIDEO_MAX_BYTES,
            long_side=settings.VIDEO_MAX_LONG_SIDE,
            short_side=settings.VIDEO_MAX_SHORT_SIDE,
            fps=settings.VIDEO_MAX_FPS,
            megapixels=settings.VIDEO_MAX_MEGAPIXELS,
        )

    @property
    def frame_pixels(self) -> int:
        return self.long_side * self.short_side

    @property
    def frames(self) -> int:
        """The most frames a video may have: `fps` for `seconds`, with a second and the slack to spare."""
        return math.ceil(self.fps * _FPS_SLACK * (self.seconds + 1))

    def seconds_at(self, width: int, height: int, fps: float) -> int:
        """How many seconds of video at this size and rate fit in the pixel budget."""
        return int(min(self.seconds, self.megapixels * 1e6 / (width * height * fps)))


def check_encoding(*, codec: str | None = None, pixel_format: str | None = None) -> None:
    """`codec` as FFmpeg's canonical name. None: not known yet (a header that doesn't say), or not checked."""
    known = (codec is None or codec in VIDEO_CODECS) and (pixel_format is None or pixel_format in PIXEL_FORMATS)
    if not known:
        raise OverLimit("encoding", what=", ".join(name for name in (codec, pixel_format) if name))


def check_header(stream, limits: Limits) -> None:
    """What a video stream's header tells before a frame is decoded (decoded frames are checked too)."""
    context = stream.codec_context
    if context is None:  # FFmpeg has no decoder for it
        raise OverLimit("encoding", what=stream.codec_tag)
    check_encoding(codec=context.codec.canonical_name, pixel_format=context.format.name if context.format else None)
    if context.width and context.height:
        check_size(context.width, context.height, limits)


def check_size(width: int, height: int, limits: Limits) -> None:
    if max(width, height) > limits.long_side or min(width, height) > limits.short_side:
        raise OverLimit("resolution", width=width, height=height, long=limits.long_side, short=limits.short_side)


def check_work(width: int, height: int, *, frames: int, seconds: float, limits: Limits) -> None:
    """Check the frame rate and the pixels × frames of a whole video, from its packets."""
    fps = frames / seconds if seconds > 0 else math.inf
    if fps > limits.fps * _FPS_SLACK:
        raise OverLimit("frame_rate", fps=round(fps), max=round(limits.fps))
    if width * height * frames > limits.megapixels * 1e6:
        seconds_fit = limits.seconds_at(width, height, fps)
        raise OverLimit("too_many_pixels", width=width, height=height, fps=round(fps), seconds=seconds_fit)


class FrameBudget:
    """Counts decoded video frames against the limits, for files whose headers understate their work.

    `fps` is the rate the probe measured, for the message.
    """

    def __init__(self, limits: Limits, *, fps: float):
        self.limits, self.fps = limits, fps
        self.frames = self.pixels = 0

    def spend(self, frame) -> None:
        check_size(frame.width, frame.height, self.limits)
        check_encoding(pixel_format=frame.format.name)
        self.frames += 1
        self.pixels += frame.width * frame.height
        if self.frames > self.limits.frames or self.pixels > self.limits.megapixels * 1e6:
            seconds = self.limits.seconds_at(frame.width, frame.height, self.fps or self.limits.fps)
            raise OverLimit(
                "too_many_pixels", width=frame.width, height=frame.height, fps=round(self.fps), seconds=seconds
            )
