"""How fast a like reaches every online friend: miniapp on Daphne, next to a bare `websockets` floor.

How, for each N in --sizes: in a fresh temporary VAR_DIR the app runs as `make run` runs it (SQLite, the
in-memory channel layer, no REDIS_URL, DEBUG on), except LIKE_RATE=100000/minute so the rate limit never
interferes: `migrate`, `seed_demo --users N+1 --friends 2` (user0001 is everyone's friend), one Daphne.
user0001 (the liker) and user0002..user(N+1) sign in through /login/?login_hint=... (requests, a thread pool);
each friend opens one /ws/activity/ socket (`websockets`, one asyncio loop, no compression) and waits for
its hello. Then:
- memory: Daphne's VmRSS before the sockets open and after they idled 3 s, in KB per socket;
- latency: after two warm-up requests, user0001 likes, unlikes, likes... the demo videos, 20 requests one
  at a time; a delivery's latency is its receive time minus t0, taken just before the request is sent; a
  delivery not received 5 s after its request is lost. The Activity table says which event a request made;
- throughput: likes/unlikes at 5, 10, 20, 40... requests/s for 2 s each (requests to one video wait for each
  other, so every request flips the like and sends one event) until saturated; deliveries/s = events
  received on all sockets / (last receive - first send). Reported: the best step with nothing lost, and the peak.
The floor: the same N sockets on a minimal `websockets` server (this script with --serve-floor, in its own
process). A control socket sends a trigger as big as a like event; the server broadcasts it to all N
(websockets.broadcast); same figures. Goals: p99 under 50 ms at N=100 and 250 ms at N=1000, nothing lost.

With --redis-url the app runs on the Redis channel layer (--layer core: RedisChannelLayer, or pubsub:
RedisPubSubChannelLayer), still on SQLite: the difference between runs is the layer.

    .venv/bin/python bench/like_fanout.py [--sizes 100,1000] [--json PATH] [--redis-url redis://… --layer core|pubsub]
"""

import argparse
import asyncio
import json
import math
import os
import resource
import sqlite3
import sys
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from websockets.asyncio.client import connect
from websockets.asyncio.server import broadcast, serve
from websockets.exceptions import ConnectionClosed

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import common  # noqa: E402

GOAL_P99_MS = {100: 50, 1000: 250}
LIKE_RATE = "100000/minute"
REDIS = {"url": "", "layer": "core"}  # set from --redis-url / --layer
LATENCY_REQUESTS = 20
LOSS_TIMEOUT = 5.0  # seconds after a request before its missing deliveries count as lost
RATES = [5, 10, 20, 40, 80, 160, 320, 640]  # requests (floor: triggers) per second
STEP_SECONDS = 2.0
IDLE_SECONDS = 3.0
CLIENT = {"compression": None, "proxy": None, "ping_interval": None, "open_timeout": 60, "close_timeout": 2}
now = time.perf_counter  # CLOCK_MONOTONIC: one clock for every thread of this process


def rss_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] if ordered else float("nan")


def sign_in(url: str, nickname: str) -> requests.Session:
    """Sign in through the public sign-in (mock provider, login_hint), as a browser would."""
    session = requests.Session()
    session.trust_env = False  # no proxy: 127.0.0.1 only
    me = session.get(f"{url}/login/?login_hint={nickname}&next=/api/me/", timeout=60)
    if me.status_code != 200 or me.json().get("name") != nickname:
        raise RuntimeError(f"sign-in as {nickname} failed: {me.status_code} {me.text[:300]}")
    session.user_id = me.json()["id"]
    return session


class Sockets:
    """N client sockets in one event loop. Every frame after the hello is kept as (receive time, socket)
    under its sequence number; a frame's text is parsed once, not once per socket."""

    def __init__(self):
        self.seqs: dict[str, int | None] = {}
        self.events: dict[int | None, list] = defaultdict(list)
        self.count = 0
        self.conns, self.tasks = [], []

    async def open(self, uri: str, origin: str, cookies: list[str]) -> None:
        gate = asyncio.Semaphore(64)

        async def one(index: int, cookie: str) -> None:
            async with gate:
                ws = await connect(
                    uri, origin=origin, additional_headers={"Cookie": cookie} if cookie else None, **CLIENT
                )
                self.conns.append(ws)
                hello = json.loads(await asyncio.wait_for(ws.recv(), 30))
                if hello.get("type") != "hello":
                    raise RuntimeError(f"first frame is not a hello: {hello}")
            self.tasks.append(asyncio.create_task(self.listen(index, ws)))

        await asyncio.gather(*(one(i, c) for i, c in enumerate(cookies)))

    async def listen(self, index: int, ws) -> None:
        try:
            async for text in ws:
                received = now()
                seq = self.seqs.get(text, -1)
                if seq == -1:
                    seq = self.seqs[text] = json.loads(text).get("seq")
                self.events[seq].append((received, index))
                self.count += 1
        except ConnectionClosed:
            pass

    async def wait(self, target: int, timeout: float) -> None:
        """Until `target` frames came or nothing came for `timeout` seconds."""
        seen, last_change = self.count, now()
        while self.count < target and now() - last_change < timeout:
            await asyncio.sleep(0.005)
            if self.count != seen:
                seen, last_change = self.count, now()

    async def close(self) -> None:
        await asyncio.gather(*(ws.close() for ws in self.conns), *self.tasks, return_exceptions=True)


def stats(ops: list[dict], events: dict, n: int) -> dict:
    """Latency of every delivery of these requests (one per socket), losses and the rates achieved."""
    ok = [op for op in ops if op["ok"]]
    latencies, spreads, last = [], [], 0.0
    for op in ok:
        seq = op.get("seq")  # None: the request's event reached no socket at all
        got = {index: t for t, index in events.get(seq, ())} if seq is not None else {}
        latencies += [(t - op["t0"]) * 1000 for t in got.values()]
        spreads += [(max(got.values()) - min(got.values())) * 1000] if got else []
        last = max([last, *got.values()])
    first, done = min(op["t0"] for op in ops), max(op["done"] for op in ops)
    return {"requests": len(ops), "failed": len(ops) - len(ok), "expected": len(ok) * n, "received": len(latencies),
            "lost": len(ok) * n - len(latencies), "p50_ms": percentile(latencies, 0.5),
            "p99_ms": percentile(latencies, 0.99), "max_ms": max(latencies, default=float("nan")),
            "deliveries_per_s": len(latencies) / (last - first) if last > first else 0.0,
            "requests_per_s": len(ok) / (done - first) if done > first else 0.0,
            "http_p50_ms": percentile([(op["done"] - op["t0"]) * 1000 for op in ops], 0.5),
            "spread_p50_ms": percentile(spreads, 0.5)}  # fmt: skip


def summary(s: dict) -> str:
    latency = f"p50 {s['p50_ms']:.1f} p99 {s['p99_ms']:.1f} max {s['max_ms']:.1f} ms"
    rates = f"{s['deliveries_per_s']:.0f} deliveries/s, {s['requests_per_s']:.1f} req/s"
    parts = f"request {s['http_p50_ms']:.1f} ms, first to last socket {s['spread_p50_ms']:.1f} ms (p50)"
    return f"{latency}, lost {s['lost']}/{s['expected']}, failed requests {s['failed']}, {rates}; {parts}"


async def measure(system, label: str, pid: int, n: int, uri: str, origin: str, cookies: list[str]) -> dict:
    """Memory per idle socket; latency, one request at a time after two to warm up; then rising rates until
    saturated. `system.fire(k)` sends request k; `system.resolve(ops)` says which event each one made."""
    sockets, before = Sockets(), rss_kb(pid)
    try:
        await sockets.open(uri, origin, cookies)
        await asyncio.sleep(IDLE_SECONDS)
        result = {"rss_before_kb": before, "kb_per_socket": (rss_kb(pid) - before) / n, "steps": []}
        print(f"  {n} sockets: {label} RSS {before} KB, +{result['kb_per_socket']:.1f} KB per idle socket", flush=True)
        ops = []
        for k in range(2 + LATENCY_REQUESTS):
            target = sockets.count + n
            ops.append(await system.fire(k))
            await sockets.wait(target, LOSS_TIMEOUT)
        system.resolve(ops)
        result["latency"] = stats(ops[2:], sockets.events, n)
        print(f"  latency: {summary(result['latency'])}", flush=True)
        for rate in RATES:
            target, start, tasks = sockets.count, now(), []
            for k in range(int(rate * STEP_SECONDS)):  # request k at start + k/rate, whether or not k-1 is done
                await asyncio.sleep(max(0.0, start + k / rate - now()))
                tasks.append(asyncio.ensure_future(system.fire(k)))
            ops = await asyncio.gather(*tasks)
            await sockets.wait(target + sum(op["ok"] for op in ops) * n, LOSS_TIMEOUT)
            system.resolve(ops)
            result["steps"].append({"rate": rate, **stats(ops, sockets.events, n)})
            print(f"  {rate:>4} req/s: {summary(result['steps'][-1])}", flush=True)
            if result["steps"][-1]["deliveries_per_s"] < 0.8 * rate * n:
                break  # saturated: a faster step says nothing more
        clean = [step for step in result["steps"] if not step["lost"] and not step["failed"]]
        result["best"] = max(clean, key=lambda step: step["deliveries_per_s"], default={})
        result["peak"] = max(result["steps"], key=lambda step: step["deliveries_per_s"])
        result["event_bytes"] = max(len(text.encode()) for text in sockets.seqs)
        return result
    finally:
        await sockets.close()
        await system.close()


class Liker:
    """user0001's likes and unlikes over HTTP: request k goes to video (k // 2) mod M, so each video gets a like,
    an unlike, a like... Requests to one video wait for each other (a lock, a session and a thread each), so each
    one flips the like and makes exactly one Activity row (a like or a retract), whose id is the event's seq."""

    def __init__(self, url: str, session: requests.Session, videos: list[int], db: Path):
        self.url, self.user_id, self.videos, self.db = url, session.user_id, videos, db
        self.liked = dict.fromkeys(videos, False)
        self.history: dict[int, list[dict]] = {video: [] for video in videos}  # successful requests, in order
        self.locks = {video: asyncio.Lock() for video in videos}
        self.sessions = {video: requests.Session() for video in videos}
        for copy in self.sessions.values():
            copy.trust_env = False
            copy.cookies.update(session.cookies)
        self.pool = ThreadPoolExecutor(len(videos))

    def send(self, video: int) -> dict:
        session, op = self.sessions[video], {"video": video, "kind": "unlike" if self.liked[video] else "like"}
        headers = {"X-CSRFToken": session.cookies["csrftoken"], "Referer": f"{self.url}/"}
        call = session.delete if self.liked[video] else session.post
        op["t0"] = now()
        try:
            op["ok"] = call(f"{self.url}/api/videos/{video}/like/", headers=headers, timeout=30).status_code == 200
        except requests.RequestException:
            op["ok"] = False
        op["done"] = now()
        if op["ok"]:
            self.liked[video] = not self.liked[video]
            self.history[video].append(op)
        return op

    async def fire(self, k: int) -> dict:
        video = self.videos[(k // 2) % len(self.videos)]
        async with self.locks[video]:
            return await asyncio.get_running_loop().run_in_executor(self.pool, self.send, video)

    def resolve(self, ops: list[dict]) -> None:
        """A video's k-th successful request made its k-th Activity row."""
        with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True) as db:
            query = "SELECT video_id, id, verb FROM engagement_activity WHERE actor_id = ? ORDER BY id"
            rows = db.execute(query, [self.user_id]).fetchall()
        by_video = defaultdict(list)
        for video, seq, verb in rows:
            by_video[video].append((seq, verb))
        for video, done in self.history.items():
            for op, (seq, verb) in zip(done, by_video[video], strict=False):
                op["seq"] = seq if verb == {"like": "like", "unlike": "retract"}[op["kind"]] else None

    async def close(self) -> None:
        self.pool.shutdown()
        for session in self.sessions.values():
            session.close()


def run_app(n: int, workers: int) -> dict:
    with common.temp_dir() as tmp:
        port = common.free_port()
        url = f"http://127.0.0.1:{port}"
        env = {key: value for key, value in os.environ.items() if key not in common.APP_VARIABLES}
        env.update(VAR_DIR=str(tmp), SITE_URL=url, LIKE_RATE=LIKE_RATE)
        if REDIS["url"]:  # the scale-out channel layer (the database stays SQLite)
            env.update(REDIS_URL=REDIS["url"], REDIS_LAYER=REDIS["layer"])
        started = time.monotonic()
        common.manage(env, "migrate", "--no-input")
        common.manage(env, "seed_demo", "--users", str(n + 1), "--friends", "2", timeout=300)
        print(f"  migrate + seed_demo --users {n + 1}: {time.monotonic() - started:.1f} s", flush=True)
        daphne = [common.PYTHON, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "miniapp.asgi:application"]
        with common.started(daphne, env, tmp / "daphne.log", port) as proc:
            started = time.monotonic()
            liker = sign_in(url, "user0001")
            pool = ThreadPoolExecutor(workers)
            try:
                friends = list(pool.map(lambda i: sign_in(url, f"user{i:04d}"), range(2, n + 2)))
            finally:
                pool.shutdown(cancel_futures=True)  # on Ctrl-C, do not sign in the rest first
            liker.get(f"{url}/", timeout=30)  # the home page sets the csrftoken cookie
            friend_count = len(liker.get(f"{url}/api/friends/", timeout=60).json()["friends"])
            videos = [video["id"] for video in liker.get(f"{url}/api/videos/", timeout=30).json()["results"]]
            took = time.monotonic() - started
            print(f"  {n + 1} sign-ins: {took:.1f} s; user0001 has {friend_count} friends, {len(videos)} videos")
            if friend_count != n:
                raise RuntimeError(f"user0001 has {friend_count} friends, expected {n}")
            cookies = [f"sessionid={session.cookies['sessionid']}" for session in friends]
            system = Liker(url, liker, videos, tmp / "db.sqlite3")
            uri = f"ws://127.0.0.1:{port}/ws/activity/"
            result = asyncio.run(measure(system, "Daphne", proc.pid, n, uri, url, cookies))
            log = (tmp / "daphne.log").read_text().splitlines()
            result["daphne_log_errors"] = [line for line in log if "Error" in line or "Traceback" in line][:20]
            print(f"  Daphne log: {len(result['daphne_log_errors'])} error lines", *result["daphne_log_errors"][:5])
            return result


class Floor:
    """Triggers over a control socket, each as big as a like event and numbered like one (seq)."""

    def __init__(self, uri: str, size: int):
        self.uri, self.size, self.sent, self.control = uri, size, 0, None

    async def fire(self, k: int) -> dict:
        self.control = self.control or await connect(f"{self.uri}/control", **CLIENT)
        self.sent += 1
        op = {"seq": self.sent, "ok": True, "t0": now()}
        text = json.dumps({"type": "floor", "seq": self.sent, "t0": op["t0"]})
        await self.control.send(text + " " * max(0, self.size - len(text)))
        op["done"] = now()
        return op

    def resolve(self, ops: list[dict]) -> None:
        pass  # a trigger's seq is known when it is sent

    async def close(self) -> None:
        if self.control:
            await self.control.close()


def run_floor(n: int, size: int) -> dict:
    with common.temp_dir() as tmp:
        port = common.free_port()
        command = [common.PYTHON, str(Path(__file__).resolve()), "--serve-floor", str(port)]
        with common.started(command, dict(os.environ), tmp / "floor.log", port) as proc:
            uri = f"ws://127.0.0.1:{port}"
            return asyncio.run(measure(Floor(uri, size), "floor", proc.pid, n, uri, "http://127.0.0.1", [""] * n))


async def serve_floor(port: int) -> None:
    """The floor server: a hello to every client; what the control socket sends goes to all of them."""
    clients = set()

    async def handler(ws) -> None:
        if ws.request.path == "/control":
            async for text in ws:
                broadcast(clients, text)
            return
        await ws.send('{"type": "hello"}')
        clients.add(ws)
        try:
            await ws.wait_closed()
        finally:
            clients.discard(ws)

    async with serve(handler, "127.0.0.1", port, compression=None, ping_interval=None):
        await asyncio.Future()


HEADERS = ["N", "system", "p50 ms", "p99 ms", "max ms", "lost", "deliveries/s", "req/s", "peak deliveries/s",
           "KB/socket", "p50 x floor", "p99 x floor", "goal", "met"]  # fmt: skip


def row(n: int, name: str, r: dict, floor: dict | None) -> list:
    lat, best, goal = r["latency"], r["best"], GOAL_P99_MS.get(n)
    lost = [lat["lost"], sum(step["lost"] for step in r["steps"])]
    ratios = [round(lat[k] / floor["latency"][k], 1) for k in ("p50_ms", "p99_ms")] if floor else ["", ""]
    met = ("yes" if lat["p99_ms"] < goal and not any(lost) else "NO") if goal and floor else ""
    return [n, name, round(lat["p50_ms"], 1), round(lat["p99_ms"], 1), round(lat["max_ms"], 1),
            f"{lost[0]} / {lost[1]}", round(best.get("deliveries_per_s", 0)), round(best.get("requests_per_s", 0), 1),
            round(r["peak"]["deliveries_per_s"]), round(r["kb_per_socket"], 1), *ratios,
            f"p99 < {goal} ms, 0 lost" if goal and floor else "", met]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000", help="numbers of online friends, comma-separated")
    parser.add_argument("--workers", type=int, default=8, help="parallel sign-ins")
    parser.add_argument("--time-limit", type=int, default=540, help="seconds before the run gives up")
    parser.add_argument("--json", help="also write the figures here")
    parser.add_argument("--redis-url", help="run the app on this Redis (an empty scratch database)")
    parser.add_argument("--layer", choices=["core", "pubsub"], default="core", help="with --redis-url")
    parser.add_argument("--serve-floor", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_floor:
        return asyncio.run(serve_floor(args.serve_floor))
    sizes = [int(size) for size in args.sizes.split(",")]
    REDIS.update(url=args.redis_url or "", layer=args.layer)
    # One descriptor per socket on each side; Daphne and the floor server inherit the limit.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < max(sizes) + 1024:
        want = max(sizes) + 1024
        resource.setrlimit(resource.RLIMIT_NOFILE, (want if hard == resource.RLIM_INFINITY else min(want, hard), hard))
    common.time_limit(args.time_limit)
    print(f"like_fanout: LIKE_RATE={LIKE_RATE} (rate limit out of the way), DEBUG on, SQLite, in-memory layer")
    started, results, rows = time.monotonic(), {}, []
    for n in sizes:
        print(f"N={n}: miniapp", flush=True)
        app = run_app(n, args.workers)
        print(f"N={n}: floor", flush=True)
        floor = run_floor(n, app["event_bytes"])
        results[n] = {"miniapp": app, "floor": floor}
        rows += [row(n, "miniapp", app, floor), row(n, "floor", floor, None)]
    print("\n" + common.table(HEADERS, rows))
    print("\nlost: deliveries lost in the 20 timed requests / in the rate steps. deliveries/s, req/s: the best rate")
    print(f"step with nothing lost; peak: the fastest step. Whole run {time.monotonic() - started:.0f} s.")
    common.write_json(args.json, {"like_rate": LIKE_RATE, "results": results})


if __name__ == "__main__":
    main()
