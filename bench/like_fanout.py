"""How fast a like reaches every online friend: miniapp on Daphne, next to a bare `websockets` floor.

How, for each N in --sizes: in a fresh temporary VAR_DIR the app runs as `make run` runs it (SQLite, the
in-memory channel layer, no REDIS_URL, DEBUG on), except LIKE_RATE=100000/minute so the rate limit never
interferes. `migrate`, `seed_demo --users N+1 --friends 2` (user0001 is everyone's friend), one Daphne process.
user0001 (the liker) and user0002..user(N+1) sign in through /login/?login_hint=... (requests, a thread pool);
each friend opens one /ws/activity/ socket (`websockets`, one asyncio loop, no compression) and waits for
its hello. Then:
- memory: Daphne's VmRSS before the sockets open and after they idled 3 s, in KB per socket;
- latency: user0001 likes, unlikes, likes... the demo videos, 20 requests one at a time; a delivery's
  latency is its receive time minus t0, taken just before the request is sent; an event not received
  5 s after its request is lost. Which event a request caused is read from the Activity table;
- throughput: likes/unlikes at 5, 10, 20, 40... requests/s for 2 s each (one thread per video, so every
  request flips the like and sends one event); deliveries/s = events received on all sockets / (last
  receive - first send). The best rate with nothing lost is reported; it stops once saturated.
The floor: the same N sockets on a minimal `websockets` server (this script with --serve-floor, its own
process). A control socket sends a trigger as big as a like event; the server broadcasts it to all N
(websockets.broadcast); same figures. Goals: p99 under 50 ms at N=100 and 250 ms at N=1000, nothing lost.

    .venv/bin/python bench/like_fanout.py [--sizes 100,1000] [--json PATH]
"""

import argparse
import asyncio
import json
import math
import os
import queue
import resource
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import requests
from websockets.asyncio.client import connect
from websockets.asyncio.server import broadcast, serve
from websockets.exceptions import ConnectionClosed

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import APP_VARIABLES, PYTHON, ROOT, free_port, manage, table, temp_dir, time_limit  # noqa: E402
from bench.common import write_json  # noqa: E402

GOAL_P99_MS = {100: 50, 1000: 250}
LIKE_RATE = "100000/minute"
LATENCY_REQUESTS = 20
LOSS_TIMEOUT = 5.0  # seconds after a request before its missing deliveries count as lost
RATES = [5, 10, 20, 40, 80, 160, 320, 640]  # requests (triggers) per second
STEP_SECONDS = 2.0
IDLE_SECONDS = 3.0
now = time.perf_counter  # CLOCK_MONOTONIC: one clock for every thread of this process


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] if ordered else float("nan")


@contextmanager
def process(cmd: list[str], env: dict, log: Path, port: int):
    """Run `cmd` until it accepts connections on 127.0.0.1:`port`; always stopped on the way out."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
        try:
            deadline = time.monotonic() + 30
            while True:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{cmd[2]} did not start:\n{log.read_text()[-3000:]}")
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.2)
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


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
                headers = {"Cookie": cookie} if cookie else None
                ws = await connect(uri, origin=origin, additional_headers=headers, compression=None, proxy=None,
                                   ping_interval=None, open_timeout=60, close_timeout=2)  # fmt: skip
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

    async def wait(self, target: int, timeout: float, idle: float | None = None) -> None:
        """Until `target` frames came, `timeout` passed, or nothing came for `idle` seconds."""
        start = last_change = now()
        seen = self.count
        while self.count < target and now() - start < timeout:
            await asyncio.sleep(0.005)
            if self.count != seen:
                seen, last_change = self.count, now()
            elif idle and now() - last_change > idle:
                break

    async def close(self) -> None:
        await asyncio.gather(*(ws.close() for ws in self.conns), return_exceptions=True)
        for task in self.tasks:
            task.cancel()


def stats(ops: list[dict], events: dict, n: int) -> dict:
    """Latency of every delivery of these requests, losses, and the rates achieved."""
    ok = [op for op in ops if op["ok"]]
    latencies, last = [], 0.0
    for op in ok:
        got = {index: t for t, index in events.get(op.get("seq"), ()) if op.get("seq") is not None}
        latencies += [(t - op["t0"]) * 1000 for t in got.values()]
        last = max([last, *got.values()])
    first = min((op["t0"] for op in ops), default=0.0)
    done = max((op["done"] for op in ops), default=0.0)
    return {
        "requests": len(ops), "failed": len(ops) - len(ok), "expected": len(ok) * n, "received": len(latencies),
        "lost": len(ok) * n - len(latencies), "p50_ms": percentile(latencies, 0.5),
        "p99_ms": percentile(latencies, 0.99), "max_ms": max(latencies, default=float("nan")),
        "deliveries_per_s": len(latencies) / (last - first) if last > first else 0.0,
        "requests_per_s": len(ok) / (done - first) if done > first else 0.0,
    }  # fmt: skip


async def measure(sockets: Sockets, n: int, fire, drive, resolve) -> dict:
    """Latency (one request at a time), then rising rates; `fire` sends one request, `drive` a rate step."""
    latency_ops = []
    for _ in range(LATENCY_REQUESTS):
        target = sockets.count + n
        latency_ops.append(await fire())
        await sockets.wait(target, LOSS_TIMEOUT)
    resolve(latency_ops)
    result = {"latency": stats(latency_ops, sockets.events, n), "steps": []}
    print(f"  latency: {fmt(result['latency'])}", flush=True)
    for rate in RATES:
        target = sockets.count
        ops = await drive(rate)
        target += sum(op["ok"] for op in ops) * n
        await sockets.wait(target, 60, idle=LOSS_TIMEOUT)
        resolve(ops)
        step = {"rate": rate, **stats(ops, sockets.events, n)}
        result["steps"].append(step)
        print(f"  {rate:>4} req/s: {fmt(step)}", flush=True)
        if step["lost"] or step["deliveries_per_s"] < 0.8 * rate * n or step["requests_per_s"] < 0.8 * rate:
            break  # saturated (or losing): a faster step says nothing more
    clean = [step for step in result["steps"] if not step["lost"] and not step["failed"]]
    best = max(clean, key=lambda step: step["deliveries_per_s"], default=None)
    result["best"] = best
    return result


def fmt(s: dict) -> str:
    return (f"p50 {s['p50_ms']:.1f} p99 {s['p99_ms']:.1f} max {s['max_ms']:.1f} ms, lost {s['lost']}/{s['expected']}"
            f", failed requests {s['failed']}, {s['deliveries_per_s']:.0f} deliveries/s, "
            f"{s['requests_per_s']:.1f} requests/s")  # fmt: skip


class Liker:
    """user0001's likes and unlikes over HTTP. Each video has its own order of requests, so every request
    flips the like and causes exactly one event; the Activity table says which."""

    def __init__(self, url: str, session: requests.Session, videos: list[int], db: Path):
        self.url, self.session, self.videos, self.db = url, session, videos, db
        self.liked = dict.fromkeys(videos, False)
        self.history: dict[int, list[dict]] = defaultdict(list)  # video -> its successful requests, in order
        self.turn = 0

    def send(self, video: int, session: requests.Session) -> dict:
        op = {"video": video, "kind": "unlike" if self.liked[video] else "like"}
        headers = {"X-CSRFToken": session.cookies["csrftoken"], "Referer": f"{self.url}/"}
        call = session.delete if self.liked[video] else session.post
        op["t0"] = now()
        try:
            response = call(f"{self.url}/api/videos/{video}/like/", headers=headers, timeout=30)
            op["ok"] = response.status_code == 200
        except requests.RequestException:
            op["ok"] = False
        op["done"] = now()
        if op["ok"]:
            self.liked[video] = not self.liked[video]
            self.history[video].append(op)
        return op

    async def fire(self) -> dict:
        video = self.videos[(self.turn // 2) % len(self.videos)]
        self.turn += 1
        return await asyncio.get_running_loop().run_in_executor(None, self.send, video, self.session)

    def step(self, rate: int) -> list[dict]:
        """`rate` requests/s for STEP_SECONDS, request k to video k % M; each video's thread keeps its order."""
        queues = {video: queue.Queue() for video in self.videos}
        ops: list[dict] = []

        def work(video: int) -> None:
            with requests.Session() as session:
                session.trust_env = False
                session.cookies.update(self.session.cookies)
                while queues[video].get() is not None:
                    ops.append(self.send(video, session))

        threads = [threading.Thread(target=work, args=(video,), daemon=True) for video in self.videos]
        for thread in threads:
            thread.start()
        start = now()
        for k in range(int(rate * STEP_SECONDS)):
            time.sleep(max(0.0, start + k / rate - now()))
            queues[self.videos[k % len(self.videos)]].put(k)
        for video in self.videos:
            queues[video].put(None)
        for thread in threads:
            thread.join(timeout=60)
        return ops

    async def drive(self, rate: int) -> list[dict]:
        return await asyncio.get_running_loop().run_in_executor(None, self.step, rate)

    def resolve(self, ops: list[dict]) -> None:
        """A video's k-th successful request made its k-th activity row (a like or a retract)."""
        with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True) as db:
            rows = db.execute(
                "SELECT video_id, id, verb FROM engagement_activity WHERE actor_id = ? ORDER BY id",
                [self.session.user_id],
            ).fetchall()
        by_video = defaultdict(list)
        for video, seq, verb in rows:
            by_video[video].append((seq, verb))
        for video, done in self.history.items():
            for op, (seq, verb) in zip(done, by_video[video], strict=False):
                op["seq"] = seq if verb == ("like" if op["kind"] == "like" else "retract") else None


async def run_app_sockets(url: str, pid: int, n: int, cookies: list[str], liker: Liker) -> dict:
    sockets = Sockets()
    before = rss_kb(pid)
    try:
        await sockets.open(url.replace("http", "ws") + "/ws/activity/", url, cookies)
        await asyncio.sleep(IDLE_SECONDS)
        kb = (rss_kb(pid) - before) / n
        print(f"  {n} sockets open: Daphne RSS {before} KB -> +{kb:.1f} KB per idle socket", flush=True)
        result = await measure(sockets, n, liker.fire, liker.drive, liker.resolve)
        result["event_bytes"] = len(next(text for text, seq in sockets.seqs.items() if seq is not None).encode())
        return {**result, "kb_per_socket": kb, "rss_before_kb": before}
    finally:
        await sockets.close()


def run_app(n: int, workers: int) -> dict:
    with temp_dir() as tmp:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {key: value for key, value in os.environ.items() if key not in APP_VARIABLES}
        env.update(VAR_DIR=str(tmp), SITE_URL=url, LIKE_RATE=LIKE_RATE)
        started = time.monotonic()
        manage(env, "migrate", "--no-input")
        manage(env, "seed_demo", "--users", str(n + 1), "--friends", "2", timeout=300)
        print(f"  migrate + seed_demo --users {n + 1}: {time.monotonic() - started:.1f} s", flush=True)
        daphne = [PYTHON, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "miniapp.asgi:application"]
        with process(daphne, env, tmp / "daphne.log", port) as proc:
            started = time.monotonic()
            liker = sign_in(url, "user0001")
            with ThreadPoolExecutor(workers) as pool:
                friends = list(pool.map(lambda i: sign_in(url, f"user{i:04d}"), range(2, n + 2)))
            liker.get(f"{url}/", timeout=30)  # the home page sets the csrftoken cookie
            friend_count = len(liker.get(f"{url}/api/friends/", timeout=60).json()["friends"])
            videos = [video["id"] for video in liker.get(f"{url}/api/videos/", timeout=30).json()["results"]]
            print(f"  {n + 1} sign-ins: {time.monotonic() - started:.1f} s; user0001 has {friend_count} friends, "
                  f"{len(videos)} videos", flush=True)  # fmt: skip
            if friend_count != n:
                raise RuntimeError(f"user0001 has {friend_count} friends, expected {n}")
            cookies = [f"sessionid={session.cookies['sessionid']}" for session in friends]
            app = Liker(url, liker, videos, tmp / "db.sqlite3")
            result = asyncio.run(run_app_sockets(url, proc.pid, n, cookies, app))
            errors = [line for line in (tmp / "daphne.log").read_text().splitlines() if "Error" in line]
            result["daphne_errors"] = errors[:20]
            return result


async def run_floor_sockets(port: int, pid: int, n: int, size: int) -> dict:
    sockets, uri = Sockets(), f"ws://127.0.0.1:{port}"
    before = rss_kb(pid)
    control = await connect(f"{uri}/control", compression=None, proxy=None, ping_interval=None)
    sent = 0

    async def fire() -> dict:
        nonlocal sent
        sent += 1
        op = {"seq": sent, "ok": True, "t0": now()}
        text = json.dumps({"type": "floor", "seq": sent, "t0": op["t0"]})
        await control.send(text + " " * max(0, size - len(text)))  # as big as a like event
        op["done"] = now()
        return op

    async def drive(rate: int) -> list[dict]:
        ops, start = [], now()
        for k in range(int(rate * STEP_SECONDS)):
            await asyncio.sleep(max(0.0, start + k / rate - now()))
            ops.append(await fire())
        return ops

    try:
        await sockets.open(uri, "http://127.0.0.1", [""] * n)
        await asyncio.sleep(IDLE_SECONDS)
        kb = (rss_kb(pid) - before) / n
        print(f"  {n} sockets open: floor RSS {before} KB -> +{kb:.1f} KB per idle socket", flush=True)
        result = await measure(sockets, n, fire, drive, lambda ops: None)
        return {**result, "kb_per_socket": kb, "rss_before_kb": before}
    finally:
        await control.close()
        await sockets.close()


def run_floor(n: int, size: int) -> dict:
    with temp_dir() as tmp:
        port = free_port()
        command = [PYTHON, str(Path(__file__).resolve()), "--serve-floor", str(port)]
        with process(command, dict(os.environ), tmp / "floor.log", port) as proc:
            return asyncio.run(run_floor_sockets(port, proc.pid, n, size))


async def serve_floor(port: int) -> None:
    """The floor: hello to every client; whatever the control socket sends goes to all of them."""
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


def raise_open_files(sockets: int) -> None:
    """Each side holds one descriptor per socket; children (Daphne, the floor) inherit the limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = sockets + 1024
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want if hard == resource.RLIM_INFINITY else min(want, hard), hard))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000", help="numbers of online friends, comma-separated")
    parser.add_argument("--workers", type=int, default=8, help="parallel sign-ins")
    parser.add_argument("--time-limit", type=int, default=540, help="seconds before the run gives up")
    parser.add_argument("--json", help="also write the figures here")
    parser.add_argument("--serve-floor", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_floor:
        asyncio.run(serve_floor(args.serve_floor))
        return
    sizes = [int(size) for size in args.sizes.split(",")]
    raise_open_files(max(sizes))
    time_limit(args.time_limit)
    print(f"like_fanout: LIKE_RATE={LIKE_RATE} (rate limit out of the way), DEBUG on, SQLite, in-memory layer")
    started, results, rows = time.monotonic(), {}, []
    for n in sizes:
        print(f"N={n}: miniapp", flush=True)
        app = run_app(n, args.workers)
        print(f"N={n}: floor", flush=True)
        floor = run_floor(n, app["event_bytes"])
        results[n] = {"miniapp": app, "floor": floor}
        goal = GOAL_P99_MS.get(n)
        for name, r in (("miniapp", app), ("floor", floor)):
            lat, best = r["latency"], r["best"] or {}
            lost = lat["lost"] + sum(step["lost"] for step in r["steps"])
            ratio = [round(app["latency"][k] / floor["latency"][k], 1) for k in ("p50_ms", "p99_ms")]
            met = "" if name == "floor" or goal is None else ("yes" if lat["p99_ms"] < goal and not lost else "NO")
            rows.append([n, name, round(lat["p50_ms"], 1), round(lat["p99_ms"], 1), round(lat["max_ms"], 1), lost,
                         round(best.get("deliveries_per_s", 0)), round(best.get("requests_per_s", 0), 1),
                         round(r["kb_per_socket"], 1), *(ratio if name == "miniapp" else ["", ""]),
                         f"p99<{goal} ms, 0 lost" if goal else "", met])  # fmt: skip
    headers = ["N", "system", "p50 ms", "p99 ms", "max ms", "lost", "deliveries/s", "req/s", "KB/socket",
               "p50 x floor", "p99 x floor", "goal", "met"]  # fmt: skip
    print("\n" + table(headers, rows))
    print(f"\nlost: latency requests + rate steps; deliveries/s and req/s: best step with nothing lost. "
          f"Whole run {time.monotonic() - started:.0f} s.")  # fmt: skip
    write_json(args.json, {"like_rate": LIKE_RATE, "results": results})


if __name__ == "__main__":
    main()
