"""What one stream entry costs the worker that reads it, besides its writes: the capacity model's per-entry figure.

A worker holding a few of a like's recipients reads one entry of their shard: the hub parses it and makes the event's
text and WebSocket frame once (`realtime.hub.Hub.take`, `realtime.frames.Message`), then writes the frame to each local
socket (the kernel's share of that write is in bench/scaleout.py's cost per delivery, not here). This times `take` in
one process for an entry naming --recipients users (the like of a user with 1,000 friends over REALTIME_SHARDS = 16
streams: 62), of whom --local hold a socket here whose write only asks for the frame. Each entry is a new like (its own
`seq`), so nothing is reused from the entry before. Run it alone.

    .venv/bin/python bench/entry_cost.py [--json PATH] [--entries 20000] [--recipients 62] [--local 3]
"""

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "miniapp.settings")
import django  # noqa: E402

from bench import common  # noqa: E402


class Socket:
    """A local socket whose write takes the frame, as `frames.writer` does, and sends nothing."""

    def __init__(self):
        self.frames = 0

    def push(self, event: dict, message) -> None:
        message.frame  # noqa: B018  (built on first use, once for all sockets)
        self.frames += 1


def like_event(seq: int) -> dict:
    """A like's event as `engagement.events.activity_event` makes it (a Chinese title, an avatar URL)."""
    return {
        "type": "activity", "id": seq, "seq": seq, "verb": "like",
        "actor": {"id": 1234, "name": "老王", "avatar": "https://thirdwx.qlogo.cn/mmopen/vi_32/abcdefghijklmnop/132"},
        "video": {"id": 42, "title": "广场舞：最炫民族风 第三集", "poster_url": "/media/posters/2026/12/04/abc.jpg"},
        "created": "2026-12-04T23:30:00.123456+08:00", "url": "/v/42/",
    }  # fmt: skip


async def measure(entries: int, recipients: int, local: int) -> dict:
    from miniapp.realtime import events
    from miniapp.realtime.hub import Hub

    hub = Hub()
    users = list(range(16, 16 * (recipients + 1), 16))  # all in stream 0
    sockets = [Socket() for _ in range(local)]
    for user, socket in zip(users, sockets, strict=False):
        hub.sockets[user].add(socket)
    texts = [events.payloads([(users, like_event(seq))])["0"] for seq in range(1, entries + 1)]
    for text in texts[:200]:  # warm-up
        await hub.take(json.loads(text), {})
    started, cpu = time.perf_counter(), time.process_time()
    for text in texts:
        await hub.take(json.loads(text), {})
    took, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert sum(socket.frames for socket in sockets) == local * (entries + 200)
    return {"entries": entries, "recipients": recipients, "local": local, "entry_bytes": len(texts[0].encode()),
            "us_per_entry": took / entries * 1e6, "cpu_us_per_entry": cpu / entries * 1e6}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common.json_argument(parser)
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--recipients", type=int, default=62)
    parser.add_argument("--local", type=int, default=3)
    args = parser.parse_args()
    django.setup()
    rows, figures = [], []
    for local in sorted({1, args.local, args.recipients}):
        result = asyncio.run(measure(args.entries, args.recipients, local))
        figures.append(result)
        rows.append([result["recipients"], local, result["entry_bytes"], round(result["us_per_entry"], 1),
                     round(result["cpu_us_per_entry"], 1)])  # fmt: skip
    headers = ["recipients in the entry", "of them here", "entry bytes", "us per entry", "CPU us per entry"]
    print(common.table(headers, rows))
    common.write_results(args.json, {"runs": figures}, tables={"One stream entry, read by a worker": (headers, rows)})


if __name__ == "__main__":
    main()
