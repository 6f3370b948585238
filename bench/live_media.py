"""What one live costs the server's media pipeline: CPU seconds per second of live, and the time
from the first chunk to the first playable segment.

How: each source is recorded beforehand with PyAV (not timed) as a browser's MediaRecorder
would record it, cut into its 250 ms chunks, and fed to a `lives.ingest.LiveTranscoder` in this
process at the pace it was recorded (a chunk every 250 ms, each holding the 250 ms before it);
the looped live plays a demo clip (`lives.looped.LoopedLive`). CPU is this process's user +
system time over the live, every thread counted (the decoder, x264's threads, the muxers); the
feeding thread's share is a few ms. "First segment" is from the first chunk fed to the first
segment listed in the playlist (`playable`), so it includes a segment's worth of recording.
The sources:

- vp8-720p: what Chromium and Android Chrome record (`video/webm;codecs=vp8,opus`): a 1280×720
  camera-like picture (moving shapes, a slow pan and sensor noise) at 30 fps, VP8 at about
  2.5 Mb/s (libvpx realtime) with a keyframe a second, Opus: transcoded to H.264 and AAC.
- h264-720p-mp4: what Safari records (`video/mp4`): the same picture in H.264 (no B-frames, a
  keyframe every 2 s) and AAC, fragmented: copied.
- h264-720p-webm: Chromium asked for `video/webm;codecs=h264,opus` with a keyframe a second:
  H.264 copied, Opus encoded to AAC.
- looped: a 6 s demo clip (360×640, as `seed_demo` makes) played as live: copied.

    .venv/bin/python bench/live_media.py [--seconds 20] [--json PATH]
"""

import argparse
import io
import os
import resource
import sys
import threading
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.frame import PictureType

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import app_env, json_argument, table, temp_dir, time_limit, write_results  # noqa: E402

FPS = 30
CHUNK_SECONDS = 0.25
WIDTH, HEIGHT = 1280, 720
# The browsers' hardware H.264 encoders: no B-frames, keyframes only when asked.
X264 = {"preset": "veryfast", "tune": "zerolatency", "b": "2500k", "x264-params": "scenecut=0"}


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Sink(io.RawIOBase):
    """A write-only unseekable file cut into chunks as MediaRecorder hands them out: each chunk is
    what the muxer had written by the end of a 250 ms timeslice, and is due then."""

    def __init__(self):
        super().__init__()
        self.chunks: list[tuple[float, bytes]] = []
        self._current = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._current += data
        return len(data)

    def cut(self, due: float) -> None:
        if self._current:
            self.chunks.append((due, bytes(self._current)))
            self._current = bytearray()


def camera_frames(seconds: float):
    """A camera-like 720p picture: a gradient, bouncing shapes, a slow pan, and fresh sensor noise each frame."""
    rng = np.random.default_rng(7)
    noise = [rng.normal(0, 4, (HEIGHT + 16, WIDTH + 16, 3)).astype(np.int16) for _ in range(6)]
    ramp = np.linspace(0, 1, HEIGHT + 64, dtype=np.float32)[:, None, None]
    scene = ((1 - ramp) * np.array([210, 150, 90]) + ramp * np.array([40, 70, 120])).astype(np.int16)
    scene = np.broadcast_to(scene, (HEIGHT + 64, WIDTH + 64, 3)).copy()
    for number in range(round(seconds * FPS)):
        t = number / FPS
        pan_x, pan_y = int(32 + 30 * np.sin(t * 0.7)), int(32 + 30 * np.cos(t * 0.5))
        picture = scene[pan_y : pan_y + HEIGHT, pan_x : pan_x + WIDTH].copy()
        for index in range(5):
            x = int((WIDTH - 160) * (0.5 + 0.5 * np.sin(t * (0.6 + index * 0.3) + index)))
            y = int((HEIGHT - 160) * (0.5 + 0.5 * np.cos(t * (0.5 + index * 0.2) + index * 2)))
            picture[y : y + 160, x : x + 160] = (60 * index, 255 - 40 * index, 120)
        dx, dy = rng.integers(0, 16, 2)
        picture += noise[number % len(noise)][dy : dy + HEIGHT, dx : dx + WIDTH]
        yield number, np.clip(picture, 0, 255).astype(np.uint8)


def record(path: Path, *, kind: str, seconds: float) -> list[tuple[float, bytes]]:
    """Record `seconds` of the camera in the browser shape `kind`; returns its chunks, each with the
    second it is due (also written to `path`). Safari's fragments are at least a second long
    (WebKit's MediaRecorderPrivateEncoder) and its keyframes 2 s apart."""
    sink = Sink()
    fmt, vcodec, acodec, rate, vopts, muxopts, keyframe = {
        "vp8": ("webm", "libvpx", "libopus", 48000, {"deadline": "realtime", "cpu-used": "8", "b": "2500k"},
                {"live": "1"}, 1),
        "h264-mp4": ("mp4", "libx264", "aac", 48000, X264, {"movflags": "+empty_moov+default_base_moof",
                                                           "frag_duration": "1000000"}, 2),
        "h264-webm": ("matroska", "libx264", "libopus", 48000, X264, {"live": "1"}, 1),
    }[kind]  # fmt: skip
    with av.open(sink, "w", format=fmt, options=muxopts) as container:
        video = container.add_stream(vcodec, rate=FPS, options=vopts)
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        video.codec_context.time_base = Fraction(1, 1000)
        video.codec_context.gop_size = 10 * FPS
        audio = container.add_stream(acodec, rate=rate)
        audio.layout = "mono"
        samples_sent, audio_frame = 0, 960 if acodec == "libopus" else 1024
        tone = (0.1 * np.sin(np.arange(int(seconds * rate) + rate) * 2 * np.pi * 330 / rate)).astype(np.float32)
        for number, pixels in camera_frames(seconds):
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts, frame.time_base = round(number * 1000 / FPS), Fraction(1, 1000)
            frame.pict_type = PictureType.I if number % (keyframe * FPS) == 0 else PictureType.NONE
            container.mux(video.encode(frame))
            until = round((number + 1) * rate / FPS)
            while until - samples_sent >= audio_frame:
                chunk = av.AudioFrame.from_ndarray(tone[None, samples_sent : samples_sent + audio_frame], format="flt",
                                                   layout="mono")  # fmt: skip
                chunk.sample_rate, chunk.pts, chunk.time_base = rate, samples_sent, Fraction(1, rate)
                container.mux(audio.encode(chunk))
                samples_sent += audio_frame
            if (number + 1) % round(CHUNK_SECONDS * FPS) == 0:
                sink.cut((number + 1) / FPS)
        container.mux(video.encode())
        container.mux(audio.encode())
    sink.cut(seconds)
    path.write_bytes(b"".join(chunk for _, chunk in sink.chunks))
    return sink.chunks


def measure_ingest(chunks: list[tuple[float, bytes]], directory: Path, *, seconds: float) -> dict:
    from miniapp.lives.ingest import LiveTranscoder

    session = LiveTranscoder(directory)
    cpu, start = cpu_seconds(), time.monotonic()
    first_segment = None
    for due, chunk in chunks:
        wait = start + due - time.monotonic()
        if wait > 0:
            first_segment = first_segment or _wait_playable(session.playable, wait, start)
        session.feed(chunk)
    session.finish()
    first_segment = first_segment or _wait_playable(session.playable, 0, start)
    used = cpu_seconds() - cpu
    return _figures(session.video_mode, session.audio_mode, used, seconds, first_segment, directory)


def _wait_playable(playable: threading.Event, seconds: float, start: float) -> float | None:
    """Sleep `seconds`, returning when the first segment came if it comes meanwhile."""
    if playable.is_set():
        return None
    if playable.wait(seconds):
        return time.monotonic() - start
    return None


def measure_looped(clip: Path, directory: Path, *, seconds: float) -> dict:
    from miniapp.lives.looped import LoopedLive

    live = LoopedLive(clip, directory)
    cpu, start = cpu_seconds(), time.monotonic()
    live.start()
    first_segment = time.monotonic() - start if live.playable.wait(30) else None
    time.sleep(max(0.0, start + seconds - time.monotonic()))
    live.stop()
    used = cpu_seconds() - cpu
    return _figures("copy", "copy", used, seconds, first_segment, directory)


def _figures(video, audio, cpu, seconds, first_segment, directory) -> dict:
    from miniapp.lives import hls

    playlist = hls.read_playlist(directory)
    listed = playlist.media_sequence + len(playlist.segments)
    durations = [segment.duration for segment in playlist.segments[:-1]]  # the last one is cut short by the end
    sizes = [(directory / segment.name).stat().st_size for segment in playlist.segments]
    return {
        "video": video,
        "audio": audio,
        "cpu_s": round(cpu, 2),
        "cpu_per_live_s": round(cpu / seconds, 3),
        "first_segment_s": round(first_segment, 2) if first_segment is not None else None,
        "segments": listed,
        "mean_segment_s": round(sum(durations) / len(durations), 2) if durations else None,
        "output_kbps": round(8 * sum(sizes) / playlist.duration / 1000) if playlist.duration else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--seconds", type=float, default=20, help="seconds of live for each source")
    json_argument(parser)
    args = parser.parse_args()
    time_limit(900)
    with temp_dir() as tmp:
        os.environ.update(app_env(tmp, site_url="http://127.0.0.1:8000"))
        import django

        django.setup()
        from miniapp.videos.demo_clips import make_demo_clip

        print(f"Recording the sources ({args.seconds:g} s each, not timed)...", flush=True)
        sources = {name: record(tmp / f"{name}.src", kind=kind, seconds=args.seconds)
                   for name, kind in [("vp8-720p", "vp8"), ("h264-720p-mp4", "h264-mp4"),
                                      ("h264-720p-webm", "h264-webm")]}  # fmt: skip
        clip = tmp / "clip.mp4"
        make_demo_clip(video_path=clip, poster_path=tmp / "clip.jpg", index=0, title="老王收麦子", seconds=6)

        rows, figures = [], {}
        for name, chunks in sources.items():
            source_kbps = round(8 * sum(len(chunk) for _, chunk in chunks) / args.seconds / 1000)
            result = measure_ingest(chunks, tmp / name, seconds=args.seconds)
            figures[name] = {"source_kbps": source_kbps, "chunks": len(chunks), **result}
            print(f"{name}: {figures[name]}", flush=True)
        figures["looped"] = {"source_kbps": None, **measure_looped(clip, tmp / "looped", seconds=args.seconds)}
        print(f"looped: {figures['looped']}", flush=True)

        headers = ["source", "video", "audio", "CPU s / s of live", "first segment s", "segment s", "in kb/s",
                   "out kb/s"]  # fmt: skip
        for name, result in figures.items():
            rows.append([
                name, result["video"], result["audio"] or "-", result["cpu_per_live_s"],
                result["first_segment_s"] if result["first_segment_s"] is not None else "-",
                result["mean_segment_s"] if result["mean_segment_s"] is not None else "-",
                result["source_kbps"] if result["source_kbps"] is not None else "-", result["output_kbps"] or "-",
            ])  # fmt: skip
        print()
        print(table(headers, rows))
        goal = figures["vp8-720p"]["cpu_per_live_s"]
        note = f"Goal: one live transcode under half a core here: {goal} core ({'met' if goal < 0.5 else 'NOT met'})."
        print(f"\n{note}")
        write_results(
            args.json,
            {"seconds": args.seconds, "sources": figures},
            tables={f"{args.seconds:g} s of live per source, fed at the pace it was recorded": (headers, rows)},
            notes=[note],
        )


if __name__ == "__main__":
    main()
