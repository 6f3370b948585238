"""Check uploaded videos and turn them into web-friendly fast-start H.264/AAC MP4s with posters and a share card.

Everything here is blocking CPU and disk work: callers run it in a worker thread, never on the
event loop. It knows nothing about models; the caller decides where `out_dir` is. Every file is
opened through `containers` (which demuxers, and nothing else) and held to `limits` (what an
upload may cost).
"""

import contextlib
import logging
import math
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from av.stream import Disposition
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from miniapp.videos import containers, posters, share_card
from miniapp.videos.limits import (
    LENGTH_GRACE,
    AudioBudget,
    FrameBudget,
    Limits,
    OverLimit,
    check_audio_header,
    check_header,
    check_work,
    too_much_audio,
)

logger = logging.getLogger(__name__)
# Fill in the numbers only when the message is shown, so it comes out in the viewer's language.
_interpolate = lazy(lambda message, values: message % values, str)

MAX_SIDE = 1280
POSTER_AT = 1.0
_FASTSTART = {"movflags": "+faststart"}
DEFAULT_LIMITS = Limits()
# FFmpeg's decoders refuse larger pictures before allocating them: 8K, the most a phone records
# (so that one gets a message saying so), or four times the largest frame allowed if that is more.
# The limit itself is checked on each decoded frame, with a message (FrameBudget).
_DECODER_MAX_PIXELS = 8192 * 4320
_AAC_RATES = {96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000}
_BROWSER_PIXEL_FORMATS = {"yuv420p", "yuvj420p"}  # 10-bit or 4:4:4 H.264 doesn't play in most browsers
# Open Graph wants at least 600×315 and WeChat and others crop link previews to about 1.91:1.


class VideoRejected(Exception):
    """An upload that is not an acceptable video.

    `message` is shown to the user (a lazy translation); `code` is a short machine code,
    one of the keys of _MESSAGES.
    """

    def __init__(self, message, *, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class ProbeResult:
    duration: float
    width: int  # as displayed, i.e. after the rotation phones store in the metadata
    height: int
    video_codec: str
    audio_codec: str | None


@dataclass(frozen=True)
class PreparedVideo:
    video_path: Path
    poster_path: Path  # JPEG, the video's size: the share card's source
    card_path: Path  # the link preview image, see share_card.write_card()
    page_poster_path: Path  # the WebP pages show, see posters.write_page_poster()
    duration: float
    width: int
    height: int
    size: int

    @classmethod
    def of(
        cls, video_path: Path, poster_path: Path, info: ProbeResult, *, card_path: Path, page_poster_path: Path
    ) -> "PreparedVideo":
        """Describe a finished MP4, its posters and its card; `info` is the MP4's own probe."""
        size = video_path.stat().st_size
        return cls(video_path, poster_path, card_path, page_poster_path, info.duration, info.width, info.height, size)


_MESSAGES = {
    "not_video": _("This file is not a video we can read. Please upload an MP4, MOV, 3GP, WebM or MKV video."),
    "no_video": _("This file has no picture. Please upload a video."),
    "image": _("This is a photo. Please upload a video."),
    "too_long": _("Videos can be at most %(seconds)d seconds long."),
    "too_short": _("This video is too short."),
    "truncated": _("This video is incomplete. The upload may have been cut off; please try again."),
    "too_big": _("Videos can be at most %(mb)d MB."),
    "encoding": _(
        "This video is encoded in a way phones don't record (%(what)s). Export it as an MP4 with H.264 or "
        "HEVC video in 4:2:0 colour (the usual settings) and upload it again."
    ),
    "resolution": _(
        "This video is %(width)d×%(height)d pixels; videos can be at most %(long)d×%(short)d, either way "
        "round. Export it at a lower resolution (1080p is plenty) and upload it again."
    ),
    "frame_rate": _(
        "This video has %(fps)d frames a second; videos can have at most %(max)d. Export it at %(max)d fps "
        "or less (a slow-motion clip at normal speed) and upload it again."
    ),
    "too_many_pixels": _(
        "This video has too many pixels to process: at %(width)d×%(height)d and %(fps)d frames a second, "
        "videos can be at most %(seconds)d seconds long. Trim it, or export it at a lower resolution or "
        "frame rate, and upload it again."
    ),
    "audio_encoding": _(
        "This video's sound is encoded in a way phones don't record (%(what)s). Export it as an MP4 with "
        "AAC sound (the usual settings) and upload it again."
    ),
    "too_much_audio": _(
        "This video's sound is more than we can process: videos can have at most %(seconds)d seconds of "
        "sound, in at most %(channels)d channels at %(khz)d kHz. Export it again as an MP4 with AAC sound "
        "(the usual settings) and upload it again."
    ),
    "failed": _("This video could not be processed."),
}


def _reject(code: str, **values) -> VideoRejected:
    message = _MESSAGES[code]
    return VideoRejected(_interpolate(message, values) if values else message, code=code)


def _pick_streams(container) -> tuple:
    """The first real video stream (cover art doesn't count) and the first audio stream, or None."""
    still = Disposition.attached_pic | Disposition.still_image
    videos = [s for s in container.streams.video if not s.disposition & still]
    audios = [s for s in container.streams.audio if s.codec_context is not None]  # a track FFmpeg can't decode: dropped
    return (videos[0] if videos else None), (audios[0] if audios else None)


def _open(path: Path, limits: Limits):
    """Open `path` with the demuxer its bytes call for, or refuse it (see `containers`)."""
    kind = containers.sniff(path)
    if kind == containers.IMAGE:
        raise _reject("image")
    if kind is None:
        raise _reject("not_video")
    return containers.open_input(path, kind, max_pixels=max(_DECODER_MAX_PIXELS, 4 * limits.frame_pixels))


def _scan(
    container, video, audio, *, budget: FrameBudget | None, audio_bytes: int | None = None
) -> tuple[float, int, av.VideoFrame | None]:
    """Demux every packet; return the seconds they span, the video packet count and the first video frame.

    Only the first frame is decoded: that proves the codec is readable and gives the rotation,
    while decoding a whole minute of HD video would cost seconds per upload. Demuxing is cheap,
    and stops once there are more video packets than `budget`'s limits allow frames, or more
    audio packets than they allow for the length (each decodes to a whole frame of sound), or an
    audio packet larger than `audio_bytes`.
    """
    first, last, video_packets, audio_packets, frame = math.inf, -math.inf, 0, 0, None
    max_audio_packets = budget.limits.audio_packets if budget is not None else math.inf
    max_audio_bytes = audio_bytes or math.inf
    try:
        for packet in container.demux(*[s for s in (video, audio) if s is not None]):
            is_video = packet.stream.index == video.index
            if not is_video:
                audio_packets += 1
                if audio_packets > max_audio_packets or packet.size > max_audio_bytes:
                    raise too_much_audio(budget.limits)
            if is_video and frame is None:
                try:  # the empty packet at the end flushes the decoder
                    frame = next(iter(packet.decode()), None)
                except av.error.FFmpegError as exc:
                    raise _reject("not_video") from exc
                if frame is not None and budget is not None:
                    budget.spend(frame)
            stamp = packet.pts if packet.pts is not None else packet.dts
            if stamp is None:
                continue
            start = float(stamp * packet.time_base)
            first, last = min(first, start), max(last, start + float((packet.duration or 0) * packet.time_base))
            video_packets += is_video
            if budget is not None and video_packets > budget.limits.frames:
                limits = budget.limits
                if last - first > limits.seconds + LENGTH_GRACE:
                    raise _reject("too_long", seconds=limits.seconds)
                raise OverLimit("frame_rate", fps=round(video_packets / max(last - first, 1)), max=round(limits.fps))
    except av.error.FFmpegError as exc:
        # The container opened but its data ended or broke partway: a cut-off upload.
        raise _reject("truncated") from exc
    return (last - first if video_packets else 0.0), video_packets, frame


def _inspect(
    container, path: Path, *, limits: Limits, min_seconds: float, ours: bool
) -> tuple[ProbeResult, int, float]:
    """probe()'s work on an open container; also returns the rotation, which transcoding must keep,
    and the frame rate. `ours`: a file we wrote, whose source passed the limits already."""
    if containers.mp4_cut_short(path):
        raise _reject("truncated")  # first: a cut can also drop streams or the duration
    video, audio = _pick_streams(container)
    if video is None:
        raise _reject("no_video")
    audio_bytes = None
    if not ours:
        check_header(video, limits)
        if audio is not None:
            audio_bytes = check_audio_header(audio, limits)
    declared = container.duration / 1_000_000 if container.duration else None
    max_seconds = math.inf if ours else limits.seconds
    if declared is not None and declared > max_seconds + LENGTH_GRACE:
        raise _reject("too_long", seconds=max_seconds)  # before reading every packet of a long film

    budget = None if ours else FrameBudget(limits, fps=0)
    spanned, video_packets, frame = _scan(container, video, audio, budget=budget, audio_bytes=audio_bytes)
    if video_packets == 1:
        raise _reject("image")
    if frame is None:
        raise _reject("not_video")
    # Packets ending well before the duration the header promised means the rest of the file is
    # missing; this catches cut-off MKV/WebM files, which have no box sizes to check.
    if declared and spanned < declared * 0.95 - 0.25:
        raise _reject("truncated")
    duration = declared or spanned
    if max(duration, spanned) > max_seconds + LENGTH_GRACE:
        raise _reject("too_long", seconds=max_seconds)
    if duration <= 0 or duration < min_seconds:
        raise _reject("too_short")
    if not ours:
        check_work(frame.width, frame.height, frames=video_packets, seconds=max(duration, spanned), limits=limits)

    sides = (frame.height, frame.width) if abs(frame.rotation) == 90 else (frame.width, frame.height)
    audio_codec = audio.codec_context.name if audio is not None else None
    result = ProbeResult(
        duration=round(duration, 3),
        width=sides[0],
        height=sides[1],
        video_codec=video.codec_context.name,
        audio_codec=audio_codec,
    )
    return result, frame.rotation, video_packets / max(duration, spanned)


def probe(path: Path, *, limits: Limits = DEFAULT_LIMITS, min_seconds: float = 1) -> ProbeResult:
    """Describe the video at `path`, or raise VideoRejected if it isn't one we accept."""
    return _probe(path, limits=limits, min_seconds=min_seconds)[0]


def _probe(path: Path, *, limits: Limits, min_seconds: float, ours: bool = False) -> tuple[ProbeResult, int, float]:
    # FFmpegError is also a ValueError; OSError covers missing files and directories, and the
    # refusal to open another file (containers.open_input).
    try:
        with _open(path, limits) as container:
            return _inspect(container, path, limits=limits, min_seconds=min_seconds, ours=ours)
    except VideoRejected:
        raise
    except OverLimit as over:
        raise _reject(over.code, **over.values) from over
    except (OSError, ValueError) as exc:
        cut_short = False
        with contextlib.suppress(OSError):
            cut_short = containers.mp4_cut_short(path)
        raise _reject("truncated" if cut_short else "not_video") from exc


def _remux(src: Path, dst: Path, *, limits: Limits) -> bool:
    """Copy browser-ready H.264 (+ AAC) into a fast-start MP4 untouched; False if it needs transcoding."""
    with _open(src, limits) as source:
        video, audio = _pick_streams(source)
        pixels = video.codec_context.format.name if video.codec_context.format else None
        if video.codec_context.name != "h264" or pixels not in _BROWSER_PIXEL_FORMATS:
            return False
        if audio is not None and audio.codec_context.name != "aac":
            return False
        with av.open(str(dst), "w", format="mp4", options=_FASTSTART) as output:
            # Only these two streams: subtitles, extra tracks and data streams are dropped.
            copies = {video.index: output.add_stream_from_template(video)}
            if audio is not None:
                copies[audio.index] = output.add_stream_from_template(audio)
            for packet in source.demux(*[s for s in (video, audio) if s is not None]):
                if packet.dts is None:
                    continue
                packet.stream = copies[packet.stream.index]
                output.mux(packet)
    return True


def _transcode(src: Path, dst: Path, *, rotation: int, budget: FrameBudget) -> None:
    """Re-encode to H.264 (libx264, yuv420p, at most MAX_SIDE) and AAC in a fast-start MP4.

    Every decoded frame is counted against `budget`, which stops a file whose packets decode to
    more (or larger) frames than the probe saw, and every second of sound against an AudioBudget
    with the same limits, which stops a file whose few packets decode to much more sound.
    """
    with (
        _open(src, budget.limits) as source,
        av.open(str(dst), "w", format="mp4", options=_FASTSTART) as output,
    ):
        video, audio = _pick_streams(source)
        sound = AudioBudget(budget.limits)
        video.thread_type = "AUTO"
        rate = video.average_rate or video.guessed_rate or Fraction(30)
        video_out = output.add_stream("libx264", rate=rate, options={"preset": "veryfast", "crf": "23"})
        width, height = video.codec_context.width, video.codec_context.height
        scale = min(1.0, MAX_SIDE / max(width, height))  # and even sides, as 4:2:0 video needs
        video_out.width, video_out.height = max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)
        video_out.pix_fmt = "yuv420p"
        if rotation:
            # Keep phones' portrait videos upright. Known up front: the header may go out with the first audio packet.
            video_out.set_display_rotation(rotation)
        # Keep the source's clock so variable frame rates survive; the encoder scales each frame itself.
        video_out.codec_context.time_base = video.time_base
        audio_out = None
        if audio is not None:
            audio_out = output.add_stream("aac", rate=audio.rate if audio.rate in _AAC_RATES else 48000)
            audio_out.layout = "mono" if audio.codec_context.layout.nb_channels == 1 else "stereo"
            audio_out.bit_rate = 128_000
        # Start both streams at zero (an edit list or a WebM cut can start later) while keeping their offset.
        start = Fraction(source.start_time or 0, 1_000_000)
        last_pts = None
        for packet in source.demux(*[s for s in (video, audio) if s is not None]):
            for frame in packet.decode():
                shift = int(start / frame.time_base) if frame.time_base else 0
                if isinstance(frame, av.AudioFrame):
                    sound.spend(frame)
                    frame.pts = frame.pts - shift if frame.pts is not None else None
                    output.mux(audio_out.encode(frame))
                    continue
                budget.spend(frame)
                pts = frame.pts - shift if frame.pts is not None else None
                if pts is None or (last_pts is not None and pts <= last_pts):
                    pts = 0 if last_pts is None else last_pts + 1  # x264 refuses repeated timestamps
                frame.pts = last_pts = pts
                output.mux(video_out.encode(frame))
        output.mux(video_out.encode())
        if audio_out is not None:
            output.mux(audio_out.encode())


def cover_time(duration: float, cover_at: float | None) -> float:
    """When the poster is taken: at `cover_at` seconds (the frame the uploader chose), kept within
    the video; without a choice at POSTER_AT, or the first frame of a shorter clip."""
    if cover_at is None:
        return POSTER_AT if duration > POSTER_AT else 0.0
    return max(0.0, min(cover_at, duration - 0.05))


def _write_poster(
    video_path: Path, poster_path: Path, *, duration: float, limits: Limits, cover_at: float | None = None
) -> None:
    """Save the frame at `cover_time` as a JPEG. Past the first seconds it seeks to the key frame
    before it first, rather than decoding the whole video up to it."""
    target = cover_time(duration, cover_at)
    chosen = None
    with _open(video_path, limits) as container:
        stream = container.streams.video[0]
        if target > POSTER_AT and stream.time_base:
            container.seek(int(target / stream.time_base), stream=stream, backward=True, any_frame=False)
        for frame in container.decode(stream):
            chosen = frame
            if frame.time is None or frame.time >= target:
                break
    if chosen is None:
        raise ValueError("the prepared video has no frames")
    image = chosen.to_image()
    if chosen.rotation:
        image = image.rotate(chosen.rotation, expand=True)  # both count degrees anticlockwise
    image.save(poster_path, format="JPEG", quality=85)


def prepare(
    src: Path, *, out_dir: Path, limits: Limits = DEFAULT_LIMITS, cover_at: float | None = None
) -> PreparedVideo:
    """Check `src` against `limits` and write `out_dir`/video.mp4 (fast-start H.264/AAC), poster.jpg, poster.webp
    and card.jpg. The poster is the frame at `cover_at` seconds when the uploader chose one.

    Browser-ready H.264 with AAC (or no audio) is copied without re-encoding; anything else is
    transcoded. Raises VideoRejected and leaves nothing behind in `out_dir` if anything fails.
    """
    try:
        size = src.stat().st_size
    except OSError as exc:
        raise _reject("not_video") from exc
    # Checked before probing, which reads every packet, so an oversized file costs nothing.
    if size > limits.bytes:
        raise _reject("too_big", mb=limits.bytes // (1024 * 1024))
    _, rotation, fps = _probe(src, limits=limits, min_seconds=1)

    video_path, poster_path, card_path = out_dir / "video.mp4", out_dir / "poster.jpg", out_dir / "card.jpg"
    page_poster_path = out_dir / "poster.webp"
    # Work under temporary names and rename at the end, so video.mp4 is never a half-written file.
    video_part, poster_part, card_part, page_poster_part = (
        out_dir / "video.mp4.part",
        out_dir / "poster.jpg.part",
        out_dir / "card.jpg.part",
        out_dir / "poster.webp.part",
    )
    written = [video_part, poster_part, card_part, page_poster_part]
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        try:
            copied = _remux(src, video_part, limits=limits)
        except av.error.FFmpegError:
            # e.g. a codec tag or extra data that the MP4 muxer refuses: encoding afresh still works.
            logger.info("Stream copy of %s failed, transcoding instead", src, exc_info=True)
            video_part.unlink(missing_ok=True)
            copied = False
        if not copied:
            _transcode(src, video_part, rotation=rotation, budget=FrameBudget(limits, fps=fps))
        result = _probe(video_part, limits=limits, min_seconds=0, ours=True)[0]
        _write_poster(video_part, poster_part, duration=result.duration, limits=limits, cover_at=cover_at)
        share_card.write_card(poster_part, card_part)
        posters.write_page_poster(poster_part, page_poster_part)
        os.replace(video_part, video_path)
        written.append(video_path)
        os.replace(poster_part, poster_path)
        written.append(poster_path)
        os.replace(card_part, card_path)
        written.append(card_path)
        os.replace(page_poster_part, page_poster_path)
        written.append(page_poster_path)
    except Exception as exc:
        for path in written:
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
        if isinstance(exc, VideoRejected):
            raise
        if isinstance(exc, OverLimit):
            raise _reject(exc.code, **exc.values) from exc
        if not isinstance(exc, av.error.FFmpegError | OSError):
            logger.exception("Unexpected error while preparing %s", src)
        raise _reject("failed") from exc
    return PreparedVideo.of(video_path, poster_path, result, card_path=card_path, page_poster_path=page_poster_path)
