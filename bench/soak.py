"""Memory under reconnecting sockets: one Daphne's RSS against the number of socket reconnects.

N users are online (seeded and signed in as bench/fanout_app.py does), one /ws/activity/ socket each, served
by one Daphne as in production (DEBUG off): the embedded default (SQLite, in-memory layer), or PostgreSQL +
Redis with --database-url and --redis-url (a throwaway database is made on that server; --layer: which Redis
layer). Sockets are dropped and reopened at a steady --rate, one user after another, as phones on mobile
networks do: every other one closes cleanly (a close frame), the others just close the TCP connection with no
close frame (a connection that goes silent without even that would need packet filtering); each reopens with
`?after=<the last id it saw>`, as static/realtime/socket.js does. With --likes R (0: none), user0001 likes and
unlikes the demo videos R times a second meanwhile, and at the end what every user's client would show of them
(live and replayed events together) must be exactly the likes still standing (`lost_events`).

The Daphne's RSS (and its thread count) is printed every --every reconnects; the run stops by itself after
--reconnects or --seconds of reconnecting, whichever comes first (--time-limit bounds the whole run, set-up
included).
Goal: the RSS after 20,000 reconnects within 10 MB of the RSS after 2,000.

--probe DIR: Daphne serves bench/soak_probe.py instead, and at each sample the soak asks it for a report (what
a full collection frees, by type, with one reference cycle per type; the live types that grew; how long a full
collection takes; with tracemalloc, on unless --probe-frames 0, the lines whose allocations grew most), prints
a summary and keeps each report in DIR. Slower, and the reports' full collections change what they measure:
for finding a leak, not for the goal.

    .venv/bin/python bench/soak.py [--users 200] [--reconnects 20000] [--rate 40] [--likes 1] [--every 1000]
        [--seconds 1200] [--database-url postgres://… --redis-url redis://… [--layer core|pubsub]]
        [--probe DIR [--probe-frames 1]] [--json PATH]
"""

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
from collections import defaultdict
from pathlib import Path

from picows import WSCloseCode, WSTransport, ws_connect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import backing, common, fanout, fanout_app  # noqa: E402

GOAL_FROM, GOAL_TO, GOAL_MB = 2_000, 20_000, 10.0
IN_FLIGHT = 32  # reconnects under way at once: a slow server makes the schedule slip, not pile up
SETTLE_SECONDS = 10.0  # at the end: how long deliveries may stall before what is missing counts as lost


class Phones(fanout.Sockets):
    """One socket per user that drops and comes back; what each user saw (live or replayed), by event id."""

    def __init__(self, uri: str, cookies: list[str], origin: str):
        super().__init__()
        self.uri, self.cookies, self.origin = uri, cookies, origin
        self.open_now: dict[int, WSTransport] = {}
        self.last_id: dict[int, int] = {}
        self.reloads: set[int] = set()
        self.busy: set[int] = set()
        self.reconnects = self.failures = 0

    def arrived(self, text: str, received: float, index: int) -> None:
        super().arrived(text, received, index)
        seq = self.seqs[text]
        if seq is None:  # not an event: a reload says "start again from last_id"
            message = json.loads(text)
            if message.get("type") == "reload":
                self.reloads.add(index)
                self.last_id[index] = message["last_id"]
        elif seq > self.last_id.get(index, 0):
            self.last_id[index] = seq

    def seen(self) -> dict[int, set[int]]:
        out = defaultdict(set)
        for seq, arrivals in self.events.items():
            for _, index in arrivals:
                out[index].add(seq)
        return out

    async def connect(self, index: int) -> None:
        after = self.last_id.get(index)
        uri = self.uri + ("" if after is None else f"?after={after}")
        headers = {"Origin": self.origin, "Cookie": self.cookies[index]}
        transport, listener = await ws_connect(
            lambda: fanout.Listener(self, index), uri, extra_headers=headers, websocket_handshake_timeout=60
        )
        hello = json.loads(await asyncio.wait_for(listener.hello, 30))
        if hello.get("type") != "hello":
            transport.disconnect(graceful=False)
            raise RuntimeError(f"first frame is not a hello: {hello}")
        self.last_id.setdefault(index, hello["last_id"])  # as socket.js: the hello's id only when it had none
        self.open_now[index] = transport

    async def drop(self, index: int, clean: bool) -> None:
        transport = self.open_now.pop(index, None)
        if transport is None:
            return
        if clean:
            transport.send_close(WSCloseCode.OK)
            transport.disconnect()
        else:
            transport.disconnect(graceful=False)  # no close frame: the connection is just gone
        await transport.wait_disconnected()

    async def reconnect(self, index: int, clean: bool) -> None:
        self.busy.add(index)
        try:
            await self.drop(index, clean)
            await self.connect(index)
            self.reconnects += 1
        except Exception as error:  # noqa: BLE001  (counted; the user comes back on its next turn)
            self.failures += 1
            if len(self.errors) < 20:
                self.errors.append(f"user {index} reconnect: {error!r}")
        finally:
            self.busy.discard(index)

    async def close(self) -> None:
        self.transports = list(self.open_now.values())
        self.open_now.clear()
        await super().close()


def status(pid: int, field: str) -> int:
    """A number from /proc/PID/status: Threads, RssAnon (the heap's share of VmRSS, in KB)..."""
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return int(next(line for line in lines if line.startswith(f"{field}:")).split()[1])


class Sampler:
    """RSS at every `every` reconnects; with a probe, its report too."""

    def __init__(self, pid: int, every: int, probe_dir: Path | None):
        self.pid, self.every, self.probe_dir = pid, every, probe_dir
        self.rows: list[dict] = []
        self.started = fanout.now()

    async def sample(self, reconnects: int, likes: int) -> None:
        row = {"reconnects": reconnects, "seconds": round(fanout.now() - self.started, 1), "likes": likes,
               "rss_kb": fanout.rss_kb(self.pid), "anon_kb": status(self.pid, "RssAnon"),
               "threads": status(self.pid, "Threads"),
               "load": round(os.getloadavg()[0], 2)}  # fmt: skip
        if self.probe_dir:
            row["probe"] = await self.probe(reconnects)
        self.rows.append(row)
        first = self.rows[0]
        previous = self.rows[-2] if len(self.rows) > 1 else row
        per = (row["rss_kb"] - previous["rss_kb"]) / max(1, reconnects - previous["reconnects"])
        print(f"  {reconnects:>7,} reconnects  {row['seconds']:>7.1f} s  RSS {row['rss_kb'] / 1024:7.1f} MB "
              f"({(row['rss_kb'] - first['rss_kb']) / 1024:+6.1f}; heap {row['anon_kb'] / 1024:.1f})  "
              f"{per:+6.2f} KB/reconnect since the last  "
              f"threads {row['threads']}  likes {likes:>5}  load {row['load']}", flush=True)  # fmt: skip
        if "probe" in row:
            print_probe(row["probe"])

    async def probe(self, reconnects: int) -> dict:
        path = self.probe_dir / "probe.json"
        path.unlink(missing_ok=True)
        os.kill(self.pid, signal.SIGUSR1)
        deadline = fanout.now() + 120
        while not path.exists():
            if fanout.now() > deadline:
                raise RuntimeError("the probe did not answer in 120 s")
            await asyncio.sleep(0.1)
        report = json.loads(path.read_text())
        path.rename(self.probe_dir / f"probe-{reconnects:07d}.json")
        return report


def print_probe(report: dict) -> None:
    print(f"    probe: gc counts {report['gc_count']}, a full collection found {report['unreachable']:,} unreachable "
          f"(RSS {report['rss_kb'] / 1024:.1f} -> {report['rss_after_collect_kb'] / 1024:.1f} MB), "
          f"traced {report['traced_kb'] / 1024:.1f} MB; a full collection of {report['tracked']:,} objects "
          f"takes {report['full_collection_ms']} ms", flush=True)  # fmt: skip
    print("    freed:", ", ".join(f"{name} {n}" for name, n in report["freed_types"][:8]))
    print("    live, grown:", ", ".join(f"{name} +{n}" for name, n in report["live_types_grown"][:8]))
    for kind, cycle in report.get("cycles", {}).items():
        print(f"    cycle through {kind}: {' -> '.join(cycle) if cycle else '(none found)'}")
    for stat in report["grown"][:6]:
        print(f"    {stat['kb']:+9.1f} KB {stat['count']:+7} blocks  {' <- '.join(stat['where'][-3:])}")


async def soak(app: fanout_app.App, args, pid: int, url: str) -> dict:
    n = len(app.cookies)
    phones = Phones(url.replace("http", "ws", 1) + "/ws/activity/", app.cookies, url)
    liker = fanout_app.Liker([url], app.liker, app.videos, app.database_url)
    sampler = Sampler(pid, args.every, args.probe)
    likes: list[asyncio.Task] = []
    try:
        gate = asyncio.Semaphore(64)

        async def first(index: int) -> None:
            async with gate:
                await phones.connect(index)

        await asyncio.gather(*(first(i) for i in range(n)))
        await asyncio.sleep(2)  # the connections' set-up is done, Daphne's checker has run
        print(f"  {n} sockets open", flush=True)
        await sampler.sample(0, 0)

        async def like_loop() -> None:
            k, start = 0, fanout.now()
            while True:
                await asyncio.sleep(max(0.0, start + k / args.likes - fanout.now()))
                likes.append(asyncio.ensure_future(liker.fire(k)))
                k += 1

        liking = asyncio.ensure_future(like_loop()) if args.likes else None
        gate, tasks, next_mark = asyncio.Semaphore(IN_FLIGHT), set(), args.every
        start, deadline, k = fanout.now(), fanout.now() + args.seconds, 0
        while phones.reconnects + len(tasks) < args.reconnects and fanout.now() < deadline:
            await asyncio.sleep(max(0.0, start + k / args.rate - fanout.now()))
            index = k % n
            k += 1
            if index in phones.busy:
                continue  # still coming back from its last turn
            await gate.acquire()
            task = asyncio.ensure_future(phones.reconnect(index, clean=k % 2 == 0))
            tasks.add(task)
            task.add_done_callback(lambda t: (tasks.discard(t), gate.release()))
            if phones.reconnects >= next_mark:
                await sampler.sample(phones.reconnects, len(likes))
                next_mark += args.every
        await asyncio.gather(*tasks)
        if liking:
            liking.cancel()
        await asyncio.gather(*likes)
        if sampler.rows[-1]["reconnects"] != phones.reconnects:
            await sampler.sample(phones.reconnects, len(likes))
        stopped = "its time" if phones.reconnects < args.reconnects else "its count"
        took = fanout.now() - start
        print(f"  stopped at {stopped}: {phones.reconnects:,} reconnects in {took:.0f} s "
              f"({phones.reconnects / took:.1f}/s), {phones.failures} failed", *phones.errors[:3], sep="\n    ",
              flush=True)  # fmt: skip
        for index in set(range(n)) - set(phones.open_now):  # failed on its last turn: back online
            await phones.reconnect(index, clean=True)
        result = {"users": n, "reconnects": phones.reconnects, "failed": phones.failures, "seconds": round(took, 1),
                  "samples": sampler.rows, "likes": len(likes), "client_errors": phones.errors[:20]}  # fmt: skip
        if args.likes:
            result["lost"] = await lost_events(phones, liker, app, n)
        # Every socket closed: what the server still holds once Daphne's checker has reaped them.
        phones.errors = []  # kept in the result; Sockets.close would raise for them
        await phones.close()
        await asyncio.sleep(3)
        result["rss_all_closed_kb"] = fanout.rss_kb(pid)
        print(f"  all sockets closed: RSS {result['rss_all_closed_kb'] / 1024:.1f} MB", flush=True)
        return result
    finally:
        with contextlib.suppress(Exception):
            await phones.close()
        await liker.close()


async def lost_events(phones: Phones, liker: fanout_app.Liker, app: fanout_app.App, n: int) -> dict:
    """What each user's client would show of user0001's likes since the soak began, against the log.

    A like missed while offline and withdrawn before the reconnect is not replayed, nor its retraction
    (selectors.activity_replay): the client never needed either. So the check is the client's end state:
    the likes it saw minus those whose retraction it saw must be exactly the likes still standing.
    `missing`: standing likes a user never saw; `stale`: withdrawn likes a user saw without their retraction.
    """
    sql = "SELECT id, verb, target_id, retracted FROM engagement_activity WHERE actor_id = %s AND id > %s"
    rows = fanout_app.query(app.database_url, sql, [liker.user_id, liker.after])
    standing = {row[0] for row in rows if row[1] == "like" and not row[3]}
    withdraws = {row[0]: row[2] for row in rows if row[1] == "retract"}
    made = {row[0] for row in rows}
    users = [i for i in range(n) if i not in phones.reloads]  # told to reload: they start again from the API

    def check() -> tuple[int, int, dict]:
        seen, missing, stale, examples = phones.seen(), 0, 0, {}
        for i in users:
            likes = {seq for seq in seen[i] if seq in made and seq not in withdraws}  # this soak's likes only
            shown = likes - {withdraws[seq] for seq in seen[i] & withdraws.keys()}
            missing += len(standing - shown)
            stale += len(shown - standing)
            if shown != standing and len(examples) < 5:
                examples[i] = {"missing": sorted(standing - shown)[:5], "stale": sorted(shown - standing)[:5]}
        return missing, stale, examples

    last_change, last = fanout.now(), None
    while fanout.now() - last_change < SETTLE_SECONDS:
        missing, stale, examples = check()
        if missing + stale == 0:
            break
        if (missing, stale) != last:
            last, last_change = (missing, stale), fanout.now()
        await asyncio.sleep(0.2)
    print(f"  likes: {len(rows)} events ({len(standing)} likes standing); over {len(users)} users, {missing} standing "
          f"likes missing and {stale} withdrawn ones shown; {len(phones.reloads)} users were told to reload",
          flush=True)  # fmt: skip
    return {"events": len(rows), "standing": len(standing), "users": len(users), "missing": missing, "stale": stale,
            "examples": examples, "reloaded_users": len(phones.reloads)}  # fmt: skip


def goal(samples: list[dict]) -> tuple[str, float | None]:
    """The RSS after GOAL_TO reconnects minus after GOAL_FROM (the first samples at or past them), in MB."""
    at = {mark: next((s for s in samples if s["reconnects"] >= mark), None) for mark in (GOAL_FROM, GOAL_TO)}
    if at[GOAL_FROM] is None or at[GOAL_TO] is None:
        return f"goal: needs {GOAL_TO:,} reconnects (sampled at least every {GOAL_FROM:,})", None
    grown = (at[GOAL_TO]["rss_kb"] - at[GOAL_FROM]["rss_kb"]) / 1024
    met = "met" if grown <= GOAL_MB else "NOT met"
    return (f"goal {met}: RSS after {at[GOAL_TO]['reconnects']:,} reconnects {grown:+.1f} MB from after "
            f"{at[GOAL_FROM]['reconnects']:,} (at most {GOAL_MB:g} MB)"), grown  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200, help="users online, one socket each")
    parser.add_argument("--reconnects", type=int, default=GOAL_TO, help="stop after this many reconnects")
    parser.add_argument("--rate", type=float, default=40, help="reconnects a second")
    parser.add_argument("--likes", type=float, default=1, help="likes a second meanwhile (0: none)")
    parser.add_argument("--every", type=int, default=1000, help="print the RSS every this many reconnects")
    parser.add_argument("--seconds", type=int, default=1200, help="stop reconnecting after this long")
    parser.add_argument("--time-limit", type=int, help="seconds before the whole run gives up (--seconds + 600)")
    parser.add_argument("--database-url", help="a PostgreSQL server (URL of any database) allowed to CREATE DATABASE")
    parser.add_argument("--redis-url", help="a scratch Redis database (it and the next are flushed)")
    parser.add_argument("--layer", choices=["core", "pubsub"], help="REDIS_LAYER (default: the app's)")
    parser.add_argument("--probe", type=Path, help="serve bench/soak_probe.py and keep its reports in this folder")
    parser.add_argument("--probe-frames", type=int, default=1, help="tracemalloc's frames per allocation (0: off)")
    common.json_argument(parser)
    args = parser.parse_args()
    if bool(args.database_url) != bool(args.redis_url):
        parser.error("--database-url and --redis-url go together")
    if args.every > GOAL_FROM:
        print(f"soak: --every {args.every} is coarser than the goal's {GOAL_FROM:,}: its figure is approximate")
    if args.probe:
        args.probe.mkdir(parents=True, exist_ok=True)
    common.raise_fd_limit(2 * args.users + 1024)
    common.time_limit(args.time_limit or args.seconds + 600)
    with contextlib.ExitStack() as stack:
        services = {}
        if args.database_url:
            services = {"database_url": stack.enter_context(backing.fresh_database(args.database_url)),
                        "redis_url": args.redis_url, "redis_layer": args.layer or ""}  # fmt: skip
            backing.flush_redis(args.redis_url)
        where = "SQLite + memory"
        if services:
            where = "PostgreSQL + Redis" + (f" ({args.layer} layer)" if args.layer else "")
        print(f"soak: {args.users} users on {where}, DEBUG off; {args.rate:g} reconnects/s up to {args.reconnects:,} "
              f"or {args.seconds} s; {args.likes:g} likes/s; load {os.getloadavg()[0]:.2f}", flush=True)  # fmt: skip
        app = stack.enter_context(fanout_app.prepared(args.users, **services))
        port = common.free_port()
        asgi = "bench.soak_probe:application" if args.probe else "miniapp.asgi:application"
        env = dict(app.env)
        if args.probe:
            env.update(
                SOAK_PROBE_FILE=str(args.probe.resolve() / "probe.json"), SOAK_PROBE_FRAMES=str(args.probe_frames)
            )
        log = app.tmp / "daphne.log"
        proc = stack.enter_context(common.started(fanout_app.daphne_command(port, asgi), env, log, port))
        with fanout_app.log_on_error(log):
            result = fanout.run_client(soak(app, args, proc.pid, f"http://127.0.0.1:{port}"))
        result["daphne_log_problems"] = problems = common.log_problems(log)
    print(f"  Daphne log: {len(problems)} lines of errors and warnings", *problems[:12], sep="\n    ")
    verdict, grown = goal(result["samples"])
    print(verdict)
    if result.get("lost", {}).get("missing") or result.get("lost", {}).get("stale"):
        print(f"LOST: {result['lost']['missing']} likes missing, {result['lost']['stale']} stale")
    samples = [[s["reconnects"], round(s["rss_kb"] / 1024, 1)] for s in result["samples"]]
    common.write_results(
        args.json,
        {"args": {k: str(v) for k, v in vars(args).items()}, "goal_mb": grown, **result},
        tables={f"The Daphne's RSS, {args.users} users on {where}": (["reconnects", "RSS MB"], samples)},
        notes=[verdict],
    )


if __name__ == "__main__":
    main()
