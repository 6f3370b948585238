"""What one upload costs the server to check and prepare: CPU and wall seconds of `processing.prepare`.

How: clips are made with PyAV in a temporary folder (not timed), then each goes through
`videos.processing.prepare` (probe, then remux or transcode, poster and share card) with the
default limits, in this process, one after the other; CPU is this process's user + system time,
every thread counted (decoders and x264 run several). The clips:

- phone: 720×1280 H.264 4:2:0 at 30 fps, 10 s, with AAC, as a phone saves it (remuxed).
- mpeg4: the same picture in MPEG-4 Part 2 (transcoded, as any non-H.264 upload is).
- h264-444: issue 14's clip: H.264 4:4:4, 1280×720, 30 fps, 59 s of a still picture, some 80 KB.
  Before the limits it was transcoded whole; now the probe refuses it (`encoding`).
- worst (with --worst): what the limits still admit at most: 1920×1080 MPEG-4 at 60 fps for
  60 s, 7,465 million pixels (VIDEO_MAX_MEGAPIXELS is 7,500), a still picture. About a minute
  of CPU on a laptop core.

    .venv/bin/python bench/upload_cost.py [--worst] [--json PATH]
"""

import argparse
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import app_env, json_argument, table, temp_dir, time_limit, write_results  # noqa: E402


def clip(path: Path, *, codec: str, width: int, height: int, fps: int, seconds: float, pix_fmt="yuv420p", audio=True):
    import av
    import numpy as np

    options = {"preset": "ultrafast", "crf": "40"} if codec == "libx264" else {}
    with av.open(str(path), "w") as container:
        video = container.add_stream(codec, rate=fps, options=options)
        video.width, video.height, video.pix_fmt = width, height, pix_fmt
        sound = None
        if audio:
            sound = container.add_stream("aac", rate=44100)
            sound.layout = "mono"
        pixels = np.zeros((height, width, 3), np.uint8)
        pixels[: height // 2] = 200
        picture = av.VideoFrame.from_ndarray(pixels, format="rgb24").reformat(format=pix_fmt)
        for number in range(round(seconds * fps)):
            picture.pts = number
            container.mux(video.encode(picture))
        container.mux(video.encode())
        if sound is not None:
            for start in range(0, round(seconds * 44100), 1024):
                chunk = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="flt", layout="mono")
                chunk.sample_rate, chunk.pts = 44100, start
                container.mux(sound.encode(chunk))
            container.mux(sound.encode())
    return path


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(path: Path, out_dir: Path) -> dict:
    from miniapp.videos import processing

    cpu, wall = cpu_seconds(), time.perf_counter()
    try:
        processing.prepare(path, out_dir=out_dir)  # the default limits: the settings' defaults
        outcome = "accepted"
    except processing.VideoRejected as rejected:
        outcome = f"refused: {rejected.code}"
    return {"outcome": outcome, "cpu_s": round(cpu_seconds() - cpu, 3), "wall_s": round(time.perf_counter() - wall, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worst", action="store_true", help="also the most the limits admit (slow)")
    json_argument(parser)
    args = parser.parse_args()
    time_limit(1800)
    with temp_dir() as tmp:
        os.environ.update(app_env(tmp, site_url="http://127.0.0.1:8000"))
        import django

        django.setup()
        phone = {"width": 720, "height": 1280, "fps": 30, "seconds": 10}
        clips = {
            "phone": {"codec": "libx264", **phone},
            "mpeg4": {"codec": "mpeg4", **phone},
            "h264-444": {"codec": "libx264", "width": 1280, "height": 720, "fps": 30, "seconds": 59, "audio": False},
        }
        clips["h264-444"]["pix_fmt"] = "yuv444p"
        if args.worst:
            clips["worst"] = {"codec": "mpeg4", "width": 1920, "height": 1080, "fps": 60, "seconds": 60, "audio": False}
        rows, figures = [], {}
        for name, spec in clips.items():
            source = clip(tmp / f"{name}.mp4", **spec)
            figures[name] = {"bytes": source.stat().st_size, **measure(source, tmp / f"{name}-out")}
            result = figures[name]
            rows.append([name, result["bytes"], result["outcome"], result["cpu_s"], result["wall_s"]])
            print(f"{name}: {result}", flush=True)
        print()
        headers = ["clip", "bytes", "outcome", "CPU s", "wall s"]
        print(table(headers, rows))
        write_results(
            args.json, figures, tables={"prepare() with the default limits, one clip after another": (headers, rows)}
        )


if __name__ == "__main__":
    main()
