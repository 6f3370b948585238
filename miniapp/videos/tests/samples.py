"""Small media files made at test time: no binary samples in the repository."""

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image


def encode(
    path: Path,
    *,
    codec: str = "mpeg4",
    seconds: float = 2,
    width: int = 96,
    height: int = 160,
    fps: int = 12,
    audio: bool = True,
    audio_codec: str = "aac",
    audio_rate: int = 44100,
    rotation: int = 0,
    faststart: bool = False,
    pix_fmt: str = "yuv420p",
    options: dict[str, str] | None = None,
) -> Path:
    """A small test video: a frame whose top half is bright, so rotation shows in the poster.

    `options` go to the video encoder, e.g. libx264's preset.
    """
    muxing = {"movflags": "+faststart"} if faststart else {}
    with av.open(str(path), "w", options=muxing) as container:
        video = container.add_stream(codec, rate=fps, options=options or {})
        video.width, video.height, video.pix_fmt = width, height, pix_fmt
        if rotation:
            video.set_display_rotation(rotation)
        sound = None
        if audio:
            sound = container.add_stream(audio_codec, rate=audio_rate)
            sound.layout = "mono"
        pixels = np.zeros((height, width, 3), np.uint8)
        pixels[: height // 2] = 230
        for number in range(round(seconds * fps)):
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts = number
            container.mux(video.encode(frame))
        container.mux(video.encode())
        if sound is not None:
            samples = np.zeros((1, round(seconds * audio_rate)), np.float32)
            for start in range(0, samples.shape[1], 1024):
                chunk = av.AudioFrame.from_ndarray(samples[:, start : start + 1024], format="flt", layout="mono")
                chunk.sample_rate, chunk.pts = audio_rate, start
                container.mux(sound.encode(chunk))
            container.mux(sound.encode())
    return path


def packed_audio(path: Path, *, packets: int, seconds: float = 2, rate: int = 48000, frames_a_packet: int = 1) -> Path:
    """An MP4 whose `seconds` of MPEG-4 video come with `packets` AAC packets of silence, stamped to fit in them.

    Each 4-byte frame decodes to 1,024 samples whatever the timestamps say, so 300,000 packets are
    1.2 MB of file and 6,400 s of sound at 48 kHz (issue 14). `frames_a_packet` puts more frames in
    each packet, which FFmpeg's AAC decoder all decodes.
    """
    with av.open(str(path), "w") as container:
        video = container.add_stream("mpeg4", rate=12)
        video.width, video.height = 96, 160
        sound = container.add_stream("aac", rate=rate)
        sound.layout = "mono"
        picture = av.VideoFrame.from_ndarray(np.full((160, 96, 3), 200, np.uint8), format="rgb24")
        for number in range(round(seconds * 12)):
            picture.pts = number
            container.mux(video.encode(picture))
        container.mux(video.encode())
        silence = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        silence.sample_rate, silence.pts = rate, 0
        tiny = bytes([*sound.encode(silence), *sound.encode()][-1])  # a frame of silence, after the priming one
        step = max(1, int(seconds * rate) // packets)
        for number in range(packets):
            packet = av.Packet(tiny * frames_a_packet)
            packet.stream, packet.time_base = sound, Fraction(1, rate)
            packet.pts = packet.dts = number * step
            packet.duration = step
            container.mux(packet)
    return path


def first_half(src: Path, dst: Path) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: len(data) // 2])
    return dst


def audio_only(path: Path, seconds: float = 2) -> Path:
    with av.open(str(path), "w") as container:
        sound = container.add_stream("aac", rate=44100)
        for start in range(0, round(44100 * seconds), 1024):
            chunk = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="flt", layout="mono")
            chunk.sample_rate, chunk.pts = 44100, start
            container.mux(sound.encode(chunk))
        container.mux(sound.encode())
    return path


def animated_gif(path: Path, *, frames: int = 12) -> Path:
    """A moving GIF, as messaging apps save them: 64×64, a bright square sliding across."""
    images = []
    for number in range(frames):
        image = Image.new("RGB", (64, 64), (20, 20, 20))
        image.paste((230, 230, 230), (number * 4, 16, number * 4 + 16, 32))
        images.append(image)
    images[0].save(path, format="GIF", save_all=True, append_images=images[1:], duration=100, loop=0)
    return path


def grown(path: Path, *, small: int = 64, large: int = 256, fps: int = 12, each: int = 12) -> Path:
    """MPEG-4 video whose frames grow from small×small to large×large halfway, with no audio.

    The stream's header and its first frame say `small`: only decoding shows the rest.
    """
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = small, small, "yuv420p"
        later = av.CodecContext.create("mpeg4", "w")  # a second encoder, whose headers go in its packets
        later.width, later.height, later.pix_fmt = large, large, "yuv420p"
        later.time_base = Fraction(1, fps)
        for number in range(2 * each):
            side, encoder = (small, stream.codec_context) if number < each else (large, later)
            frame = av.VideoFrame.from_ndarray(np.full((side, side, 3), 200, np.uint8), format="rgb24")
            frame.pts = number
            for packet in encoder.encode(frame):
                packet.stream = stream
                container.mux(packet)
            if number == each - 1:
                container.mux(stream.encode())  # flush the first encoder
        for packet in later.encode(None):
            packet.stream = stream
            container.mux(packet)
    return path


def dark_then_bright(path: Path, *, seconds: int = 6, fps: int = 12, codec: str = "mpeg4") -> Path:
    """A clip dark for its first half and bright for the second: which frame a poster is shows."""
    with av.open(str(path), "w") as container:
        video = container.add_stream(codec, rate=fps)
        video.width, video.height, video.pix_fmt = 96, 160, "yuv420p"
        for number in range(seconds * fps):
            level = 20 if number < seconds * fps // 2 else 230
            frame = av.VideoFrame.from_ndarray(np.full((160, 96, 3), level, np.uint8), format="rgb24")
            frame.pts = number
            container.mux(video.encode(frame))
        container.mux(video.encode())
    return path


def brightness(poster: Path) -> float:
    with Image.open(poster) as image:
        return float(np.asarray(image.convert("L")).mean())
