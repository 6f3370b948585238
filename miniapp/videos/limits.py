"""What one upload may cost the server, and the checks that hold it to that.

Transcoding decodes every frame and encodes it again, so its cost grows with pixels × frames, and
with encodings that no phone records (issue 14: a minute of H.264 4:4:4, smaller than a photo, kept
a core busy far longer than any phone's clip; bench/upload_cost.py, bench/RESULTS.md). So an upload
is held to what a phone records: a few codecs in 4:2:0 colour, a frame size, a frame rate, and a
total of pixels × frames. The probe checks all of it from the container and the packets, before
decoding more than a frame or two; FrameBudget checks it again on every frame decoded, because
headers can lie.

Sound is held the same way: a codec phones record, a sample rate and channels a recorder uses, no
more audio packets than a phone writes for the length and none larger than one frame can be, all
from the probe; and no more seconds of sound decoded than the length allows (AudioBudget). Each
packet, however small, decodes to a whole frame of sound, so a small file of tiny packets can hold
hours of it (issue 14's re-test; bench/upload_cost.py's audio clips).
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
# A phone that stops at exactly the limit still writes an AAC track a few milliseconds longer.
LENGTH_GRACE = 0.5

# What phones record, and browsers' MediaRecorder, as FFmpeg names the codec: AAC (MP4, MOV, 3GP),
# AMR (3GP), Opus and Vorbis (WebM), MP3 (older phones), and PCM (camera apps' MOV, Chrome's WebM).
AUDIO_CODECS = {"aac", "amr_nb", "amr_wb", "opus", "vorbis", "mp3"}
# FFmpeg's AAC, AMR and MP3 decoders read on past a packet's first frame, and PyAV hands back all the
# frames of a packet at once, before any can be counted: one 400 KB packet of 4-byte AAC frames
# decoded to 102,400 frames and 970 MB. So their packets may hold one frame at most: AAC's largest
# is 6,144 bits a channel (6,144 bytes for 8 channels), MP3's 2,881 bytes, 3GP's 15 AMR frames a
# sample 915. Opus, Vorbis and PCM decoders take a packet whole, as one frame.
_ONE_FRAME_CODECS = {"aac", "amr_nb", "amr_wb", "mp3"}
AUDIO_MAX_PACKET_BYTES = 6144
# Audio packets a second, at most: phones write AAC in packets of 1,024 samples (47 a second at
# 48 kHz, 94 at 96 kHz), AMR and Opus (MediaRecorder) in packets of 20 ms (50 a second); Opus
# at 10 ms is 100. Twice the most of those leaves room for any sane encoder, while decoding and
# encoding cost grows with the packets' count, however small each is.
AUDIO_PACKETS_PER_SECOND = 200
# Sample rate and channels, at most: the cost of a second of sound grows with both (a minute of
# 6-channel sound at 2 MHz cost 7 times a phone's 48 kHz stereo). Phones record 48 kHz in 1 to 4
# channels, some 96 kHz; 192 kHz and 7.1 are as far as any recorder goes.
AUDIO_MAX_RATE = 192_000
AUDIO_MAX_CHANNELS = 8


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

    @property
    def audio_packets(self) -> int:
        """The most audio packets a video may have: AUDIO_PACKETS_PER_SECOND for `seconds`, and one to spare."""
        return math.ceil(AUDIO_PACKETS_PER_SECOND * (self.seconds + 1))

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


def too_much_audio(limits: Limits) -> OverLimit:
    return OverLimit("too_much_audio", seconds=limits.seconds, channels=AUDIO_MAX_CHANNELS, khz=AUDIO_MAX_RATE // 1000)


def check_sound(*, rate: int, channels: int, limits: Limits) -> None:
    """An audio stream's or frame's sample rate and channels; 0 in a header: not known yet."""
    if rate > AUDIO_MAX_RATE or channels > AUDIO_MAX_CHANNELS:
        raise too_much_audio(limits)


def check_audio_header(stream, limits: Limits) -> int | None:
    """What an audio stream's header tells; returns the most bytes one of its packets may hold, or None."""
    context = stream.codec_context
    codec = context.codec.canonical_name
    if codec not in AUDIO_CODECS and not codec.startswith("pcm_"):
        raise OverLimit("audio_encoding", what=codec)
    check_sound(rate=context.sample_rate, channels=context.layout.nb_channels, limits=limits)
    return AUDIO_MAX_PACKET_BYTES if codec in _ONE_FRAME_CODECS else None


class AudioBudget:
    """Counts the seconds of sound decoded against the length limit, for files whose packets hold
    more sound than their timestamps say (the probe only counts packets)."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.seconds = 0.0

    def spend(self, frame) -> None:
        rate = frame.sample_rate
        check_sound(rate=rate, channels=frame.layout.nb_channels, limits=self.limits)
        if rate <= 0:  # no decoder makes one, but a frame without a rate has no length to count
            raise too_much_audio(self.limits)
        self.seconds += frame.samples / rate
        if self.seconds > self.limits.seconds + LENGTH_GRACE:
            raise too_much_audio(self.limits)
