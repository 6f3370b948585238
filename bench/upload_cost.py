"""What one upload costs the server to check and prepare: CPU and wall seconds of `processing.prepare`.

How: clips are made with PyAV (`videos/tests/samples.py`) in a temporary folder (not timed), then
each goes through `videos.processing.prepare` (probe, then remux or transcode, poster and share
card) with the default limits, in this process, one after the other; CPU is this process's user +
system time, every thread counted (decoders and x264 run several). Peak RSS is the process's
highest so far, so a clip that raises it shows. The clips:

- phone: 720×1280 H.264 4:2:0 at 30 fps, 10 s, with AAC, as a phone saves it (remuxed).
- mpeg4: the same picture in MPEG-4 Part 2 (transcoded, as any non-H.264 upload is).
- h264-444: issue 14's clip: H.264 4:4:4, 1280×720, 30 fps, 59 s of a still picture, some 80 KB.
  Before the limits it was transcoded whole; now the probe refuses it (`encoding`).
- audio-flood: issue 14's re-test: 56 s of small (96×160) MPEG-4 video with 300,000 AAC packets
  of 4 bytes stamped into 50 s, 6,400 s of sound (1.2 MB). Now refused after 12,201 packets
  (`too_much_audio`).
- audio-stuffed: 2 s of that video with one AAC packet holding 100,000 such frames (400 KB),
  which FFmpeg decodes all at once. Now refused from the packet's size (`too_much_audio`).
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


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KB on Linux


def measure(path: Path, out_dir: Path) -> dict:
    from miniapp.videos import processing

    cpu, wall = cpu_seconds(), time.perf_counter()
    try:
        processing.prepare(path, out_dir=out_dir)  # the default limits: the settings' defaults
        outcome = "accepted"
    except processing.VideoRejected as rejected:
        outcome = f"refused: {rejected.code}"
    cpu, wall = round(cpu_seconds() - cpu, 3), round(time.perf_counter() - wall, 3)
    return {"outcome": outcome, "cpu_s": cpu, "wall_s": wall, "peak_rss_mb": peak_rss_mb()}


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
        from miniapp.videos.tests.samples import encode, packed_audio

        fast = {"preset": "ultrafast", "crf": "40"}
        phone = {"width": 720, "height": 1280, "fps": 30, "seconds": 10}
        clips = {
            "phone": lambda path: encode(path, codec="libx264", options=fast, **phone),
            "mpeg4": lambda path: encode(path, codec="mpeg4", **phone),
            "h264-444": lambda path: encode(
                path,
                codec="libx264",
                options=fast,
                pix_fmt="yuv444p",
                width=1280,
                height=720,
                fps=30,
                seconds=59,
                audio=False,
            ),
            "audio-flood": lambda path: packed_audio(path, packets=300_000, seconds=56),
            "audio-stuffed": lambda path: packed_audio(path, packets=1, frames_a_packet=100_000),
        }
        if args.worst:
            clips["worst"] = lambda path: encode(
                path, codec="mpeg4", width=1920, height=1080, fps=60, seconds=60, audio=False
            )
        rows, figures = [], {}
        print(f"peak RSS before the clips: {peak_rss_mb()} MB", flush=True)
        for name, make in clips.items():
            source = make(tmp / f"{name}.mp4")
            figures[name] = {"bytes": source.stat().st_size, **measure(source, tmp / f"{name}-out")}
            result = figures[name]
            rows.append(
                [name, result["bytes"], result["outcome"], result["cpu_s"], result["wall_s"], result["peak_rss_mb"]]
            )
            print(f"{name}: {result}", flush=True)
        print()
        headers = ["clip", "bytes", "outcome", "CPU s", "wall s", "peak RSS MB"]
        print(table(headers, rows))
        write_results(
            args.json, figures, tables={"prepare() with the default limits, one clip after another": (headers, rows)}
        )


if __name__ == "__main__":
    main()
