"""Live recordings made at test time, shaped like the browsers' MediaRecorder output, and cut into chunks.

- webm(): what Chromium and Android record (`video/webm;codecs=vp8,opus`): Matroska written for
  live, with a keyframe every `keyframe_seconds` (the page asks for one a second).
- fragmented_mp4(): what Safari records (`video/mp4`): H.264 without B-frames and AAC, in an
  `ftyp` and `moov` and then a `moof` and `mdat` for each keyframe, which Safari makes every 2 s;
  `rotation` as the display matrix a phone held upright writes.

The picture's top half is bright and its bottom half dark, so a test can tell which way up it is.
Chromium's own recordings are in fixtures/ (see record_fixtures.py).
"""

import io
import json
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.frame import PictureType

FIXTURES = Path(__file__).parent / "fixtures"


class _Sink(io.RawIOBase):
    """A write-only, unseekable file: muxers write to it as to a pipe, as a browser's recorder does."""

    def __init__(self):
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.data += data
        return len(data)


def _picture(width: int, height: int, number: int) -> av.VideoFrame:
    pixels = np.full((height, width, 3), 40, np.uint8)
    pixels[: height // 2] = 220
    pixels[height // 2 :, (number * 4) % width] = 128  # a line that moves, so frames differ
    return av.VideoFrame.from_ndarray(pixels, format="rgb24")


def _record(
    container,
    *,
    video,
    audio,
    seconds: float,
    fps: int,
    keyframe_seconds: float,
    audio_rate: int,
    audio_frame: int,
    noise_after: float | None = None,
) -> None:
    """Encode `seconds` of picture and a tone, video and sound interleaved as a recorder writes them.
    After `noise_after` seconds, the video packets' bytes are replaced with noise (their sizes and
    timestamps kept)."""
    noise = np.random.default_rng(17)
    video.codec_context.time_base = Fraction(1, 1000)
    sent = 0
    tone = (0.1 * np.sin(np.arange(int(seconds * audio_rate)) * 2 * np.pi * 440 / audio_rate)).astype(np.float32)
    for number in range(round(seconds * fps)):
        frame = _picture(video.width, video.height, number)
        frame.pts, frame.time_base = round(number * 1000 / fps), Fraction(1, 1000)
        frame.pict_type = PictureType.I if number % round(keyframe_seconds * fps) == 0 else PictureType.NONE
        for packet in video.encode(frame):
            if noise_after is not None and number >= noise_after * fps:
                packet.update(noise.integers(0, 256, packet.size, dtype=np.uint8).tobytes())
            container.mux(packet)
        if audio is None:
            continue
        until = min(len(tone), round((number + 1) * audio_rate / fps))
        while until - sent >= audio_frame:
            samples = av.AudioFrame.from_ndarray(tone[None, sent : sent + audio_frame], format="flt", layout="mono")
            samples.sample_rate, samples.pts, samples.time_base = audio_rate, sent, Fraction(1, audio_rate)
            container.mux(audio.encode(samples))
            sent += audio_frame
    container.mux(video.encode())
    if audio is not None:
        container.mux(audio.encode())


def webm(
    *,
    seconds: float = 3,
    width: int = 160,
    height: int = 96,
    fps: int = 15,
    keyframe_seconds: float = 1,
    audio: bool = True,
    codec: str = "libvpx",
    noise_after: float | None = None,
) -> bytes:
    sink = _Sink()
    with av.open(sink, "w", format="webm", options={"live": "1"}) as container:
        video = container.add_stream(codec, rate=fps, options={"deadline": "realtime", "cpu-used": "8"})
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.codec_context.gop_size = 10 * fps
        sound = None
        if audio:
            sound = container.add_stream("libopus", rate=48000)
            sound.layout = "mono"
        _record(
            container,
            video=video,
            audio=sound,
            seconds=seconds,
            fps=fps,
            keyframe_seconds=keyframe_seconds,
            audio_rate=48000,
            audio_frame=960,
            noise_after=noise_after,
        )
    return bytes(sink.data)


def fragmented_mp4(
    *,
    seconds: float = 5,
    width: int = 160,
    height: int = 96,
    fps: int = 15,
    keyframe_seconds: float = 2,
    rotation: int = 0,
    audio: bool = True,
) -> bytes:
    sink = _Sink()
    options = {"movflags": "+frag_keyframe+empty_moov+default_base_moof"}
    with av.open(sink, "w", format="mp4", options=options) as container:
        x264 = {"preset": "ultrafast", "tune": "zerolatency", "profile": "baseline", "forced-idr": "1"}
        video = container.add_stream("libx264", rate=fps, options=x264)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.codec_context.gop_size = 10 * fps
        if rotation:
            video.set_display_rotation(rotation)
        sound = None
        if audio:
            sound = container.add_stream("aac", rate=44100)
            sound.layout = "mono"
        _record(
            container,
            video=video,
            audio=sound,
            seconds=seconds,
            fps=fps,
            keyframe_seconds=keyframe_seconds,
            audio_rate=44100,
            audio_frame=1024,
        )
    return bytes(sink.data)


def chunks(data: bytes, size: int) -> list[bytes]:
    """`data` cut every `size` bytes, wherever that falls, as a recorder's timeslice may."""
    return [data[start : start + size] for start in range(0, len(data), size)]


def fixture(name: str) -> list[bytes]:
    """A recording in fixtures/, cut into the chunks the browser handed out (`<name>.chunks.json`)."""
    data = (FIXTURES / name).read_bytes()
    sizes = json.loads((FIXTURES / f"{name}.chunks.json").read_text())
    assert sum(sizes) == len(data)
    result, start = [], 0
    for size in sizes:
        result.append(data[start : start + size])
        start += size
    return result
