"""Measuring a fan-out: N client sockets, a system that pushes events to them, and when each one arrived.

Any system under test is an object with `fire(k)` (send request or trigger k; returns an op dict with `t0`,
`done`, `ok` and, when already known, the `seq` of the event it makes), `resolve(ops)` (fill in the
`seq` of each op) and `close()`. `measure()` opens the sockets and reports, for that system:
- memory: the servers' VmRSS before the sockets open and after they idled 3 s, in KB per socket;
- latency: after two warm-up requests, 20 requests one at a time (realtime.py: 100); a delivery's latency
  is its receive time minus t0, taken just before the request is sent; one not received 5 s after its
  request is lost;
- throughput (none with `rates` empty): requests at rising rates (`rates`, 2 s each) until saturated;
  deliveries/s = events received on all sockets / (last receive - first send), the servers' CPU time per
  delivery, and how many cores the whole machine and the client kept busy (on a small machine, the
  client's share caps the rest).
  A step was kept up with when nothing was lost and a request's lag (to its last socket) grew by at most
  0.05 s a second from the step's first quarter of requests to its last (medians): a system serving 95% or
  more of the offered rate; a constant delay does not count against it;
  three more steps then narrow the gap between the fastest step kept up with and the next one (bisection),
  and the sustained rate (`best`) is the fastest step kept up with. A system pushed past it delivers a
  while longer from its queues, but a backlog that grows is not a rate it sustains;
- with `profile`, a py-spy recording of the first server during a steady fan-out after all that
  (1,000 deliveries/s for 8 s).

The systems that are not miniapp (the floor, stock Channels' trigger) are in bench/baselines.py.
"""

import asyncio
import gc
import json
import math
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

import uvloop
from picows import WSCloseCode, WSFrame, WSListener, WSMsgType, WSTransport, ws_connect
from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import pyspy  # noqa: E402

LATENCY_REQUESTS = 20
LOSS_TIMEOUT = 5.0  # seconds after a request before its missing deliveries count as lost
RATES = [5, 10, 20, 40, 80, 160, 320, 640]  # requests (floor: triggers) per second
STEP_SECONDS = 2.0
SATURATED = 0.8  # a step not kept up with, delivering under this share of what it offered, ends the rising rates
BACKLOG_GROWTH = 0.05  # kept up with: nothing lost, and the lag grew by at most 0.05 s a second (capacity >= 95%)
REFINE_STEPS = 3  # then steps between the fastest kept up with and the next: √2 apart becomes 4.4%
MIN_STEP_REQUESTS = 6  # a slow step lasts longer rather than say little
IDLE_SECONDS = 3.0
PROFILE_OFFERED, PROFILE_SECONDS = 1000, 8.0  # the steady fan-out py-spy records: deliveries/s, for so long
CLIENT = {"compression": None, "proxy": None, "ping_interval": None, "open_timeout": 60, "close_timeout": 2}
TICKS = os.sysconf("SC_CLK_TCK")
now = time.perf_counter  # CLOCK_MONOTONIC: one clock for every thread of this process


def run_client(coroutine):
    """Run the measuring client on uvloop: the client shares the machine's cores with the servers it
    measures, and on uvloop it spends 4.5 µs of user time a frame instead of 6.9 on asyncio's own loop
    (a floor broadcast to 1,000 sockets at 40,000 frames/s; the kernel's ~6 µs a frame stays)."""
    return uvloop.run(coroutine)


def rss_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1])


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far (all their threads)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / TICKS


def machine_busy_seconds() -> float:
    """CPU time all cores of the machine spent busy so far (/proc/stat: all but idle and iowait)."""
    user, nice, system, idle, iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / TICKS


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] if ordered else float("nan")


class Listener(WSListener):
    """One client socket: its hello resolves `hello`; every later text frame goes to `sockets.arrived`.

    picows (Cython) parses frames and calls back with no task, queue or copy per frame. With the pure-Python
    `websockets` client, the client itself was the slowest part of the floor: its 1,000 sockets took ~30 ms
    to read one broadcast (floor p99 37-90 ms at N=1,000; 11 ms first to last socket with picows)."""

    def __init__(self, sockets: "Sockets", index: int):
        self.sockets, self.index = sockets, index
        self.hello = asyncio.get_running_loop().create_future()

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type != WSMsgType.TEXT:
            return  # pings are answered by picows; the servers send nothing else
        received = now()
        if not frame.fin:
            self.sockets.errors.append(f"socket {self.index}: a fragmented frame")
            return
        text = frame.get_payload_as_utf8_text()
        if not self.hello.done():
            self.hello.set_result(text)
        else:
            self.sockets.arrived(text, received, self.index)

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        if not self.hello.done():
            self.hello.set_exception(ConnectionError("closed before its hello"))


class Sockets:
    """N client sockets in one event loop. Every frame after the hello is kept as (receive time, socket)
    under its sequence number; a frame's text is parsed once, not once per socket."""

    def __init__(self):
        self.seqs: dict[str, int | None] = {}
        self.events: dict[int | None, list] = defaultdict(list)
        self.count = 0
        self.transports: list[WSTransport] = []
        self.errors: list[str] = []

    async def open(self, targets: list[tuple[str, str]], origin: str) -> None:
        """One socket per (uri, cookie), each waiting for its hello."""
        gate = asyncio.Semaphore(64)

        async def one(index: int, uri: str, cookie: str) -> None:
            async with gate:
                headers = {"Origin": origin, **({"Cookie": cookie} if cookie else {})}
                transport, listener = await ws_connect(
                    lambda: Listener(self, index), uri, extra_headers=headers, websocket_handshake_timeout=60
                )
                self.transports.append(transport)
                hello = json.loads(await asyncio.wait_for(listener.hello, 30))
                if hello.get("type") != "hello":
                    raise RuntimeError(f"first frame is not a hello: {hello}")

        await asyncio.gather(*(one(i, uri, cookie) for i, (uri, cookie) in enumerate(targets)))

    def arrived(self, text: str, received: float, index: int) -> None:
        seq = self.seqs.get(text, -1)
        if seq == -1:
            seq = self.seqs[text] = json.loads(text).get("seq")
        self.events[seq].append((received, index))
        self.count += 1

    async def wait(self, target: int, timeout: float) -> None:
        """Until `target` frames came or nothing came for `timeout` seconds."""
        seen, last_change = self.count, now()
        while self.count < target and now() - last_change < timeout:
            await asyncio.sleep(0.005)
            if self.count != seen:
                seen, last_change = self.count, now()

    async def close(self) -> None:
        for transport in self.transports:
            transport.send_close(WSCloseCode.OK)
            transport.disconnect()
        await asyncio.gather(*(t.wait_disconnected() for t in self.transports), return_exceptions=True)
        if self.errors:
            raise RuntimeError(f"{len(self.errors)} client errors, e.g. {self.errors[0]}")


def lag_growth(lags: list[tuple[float, float]]) -> float:
    """How fast a backlog grew over a step: the lag of a request (due at t0, its event on the last socket
    lag seconds later), median of the last quarter of the requests minus median of the first quarter, per
    second between them. A system serving at capacity c below the offered rate r grows it at r/c - 1."""
    lags = sorted(lags)
    q = max(1, len(lags) // 4)
    early, late = lags[:q], lags[-q:]
    elapsed = percentile([t for t, _ in late], 0.5) - percentile([t for t, _ in early], 0.5)
    grown = percentile([lag for _, lag in late], 0.5) - percentile([lag for _, lag in early], 0.5)
    return grown / elapsed if elapsed > 0 else 0.0


def stats(ops: list[dict], events: dict, n: int) -> dict:
    """Latency of every delivery of these requests (one per socket), losses and the rates achieved;
    first_last_ms: each request's first and last delivery (one slow request is 1,000 slow deliveries)."""
    ok = [op for op in ops if op["ok"]]
    latencies, spreads, last, repeats, each, lags = [], [], 0.0, 0, [], []
    for op in ok:
        seq = op.get("seq")  # None: the request's event reached no socket at all
        # A socket's first copy counts; one sent again (a catch-up replay) is a repeat.
        arrivals = events.get(seq, []) if seq is not None else []
        got = {index: t for t, index in reversed(arrivals)}
        repeats += len(arrivals) - len(got)
        latencies += [(t - op["t0"]) * 1000 for t in got.values()]
        if not got:
            each.append(None)
            continue
        first_at, last_at = min(got.values()), max(got.values())
        spreads.append((last_at - first_at) * 1000)
        each.append([round((t - op["t0"]) * 1000, 1) for t in (first_at, last_at)])
        last = max(last, last_at)
        due = op.get("due", op["t0"])  # a rate step's schedule; the timed likes go one at a time
        lags.append((due, last_at - due))
    first, done = min(op["t0"] for op in ops), max(op["done"] for op in ops)
    return {"requests": len(ops), "failed": len(ops) - len(ok), "expected": len(ok) * n, "received": len(latencies),
            "lost": len(ok) * n - len(latencies), "p50_ms": percentile(latencies, 0.5),
            "p99_ms": percentile(latencies, 0.99), "max_ms": max(latencies, default=float("nan")),
            "deliveries_per_s": len(latencies) / (last - first) if last > first else 0.0,
            "lag_growth": lag_growth(lags),
            "requests_per_s": len(ok) / (done - first) if done > first else 0.0,
            "http_p50_ms": percentile([(op["done"] - op["t0"]) * 1000 for op in ops], 0.5),
            "http_p99_ms": percentile([(op["done"] - op["t0"]) * 1000 for op in ops], 0.99),
            "spread_p50_ms": percentile(spreads, 0.5), "repeats": repeats,
            "first_last_ms": each}  # fmt: skip


def summary(s: dict) -> str:
    latency = f"p50 {s['p50_ms']:.1f} p99 {s['p99_ms']:.1f} max {s['max_ms']:.1f} ms"
    rates = f"{s['deliveries_per_s']:.0f} deliveries/s, {s['requests_per_s']:.1f} req/s"
    parts = f"request {s['http_p50_ms']:.1f} ms, first to last socket {s['spread_p50_ms']:.1f} ms (p50)"
    cpu = f", {s['cpu_us_per_delivery']:.1f} CPU us/delivery" if "cpu_us_per_delivery" in s else ""
    if "machine_cores" in s:
        cpu += f"; cores busy {s['machine_cores']:.2f} of {os.cpu_count()} (client {s['client_cores']:.2f})"
    repeats = f", {s['repeats']} repeated" if s.get("repeats") else ""
    kept = {True: "; kept up", False: "; fell behind"}.get(s.get("kept_up"), "")
    kept += f" (lag grew {s['lag_growth'] * 1000:.0f} ms a second)" if kept else ""
    lost = f"lost {s['lost']}/{s['expected']}{repeats}, failed requests {s['failed']}"
    return f"{latency}, {lost}, {rates}; {parts}{cpu}{kept}"


async def warm_up(targets: list[tuple[str, str]], origin: str) -> None:
    """One socket to each server, opened and closed, so that what a server sets up once (the first
    consumer, a layer connection, a listener) is not counted as the sockets' memory."""
    for uri, cookie in dict(reversed(targets)).items():
        headers = {"Cookie": cookie} if cookie else None
        async with connect(uri, origin=origin, additional_headers=headers, **CLIENT) as ws:
            await asyncio.wait_for(ws.recv(), 30)
    await asyncio.sleep(0.5)


async def fire_at(system, rate: float, seconds: float) -> list[dict]:
    """Request k at start + k/rate, whether or not k-1 is done; at least MIN_STEP_REQUESTS of them.
    Each op keeps the time it was due: a request that waited in the client (the Liker sends a video's
    requests one after another) counts that wait against the system, or a client slowed by a slow server
    would hide the backlog (coordinated omission)."""
    start, tasks = now(), []
    for k in range(max(MIN_STEP_REQUESTS, int(rate * seconds))):
        await asyncio.sleep(max(0.0, start + k / rate - now()))
        tasks.append(asyncio.ensure_future(system.fire(k)))
    ops = list(await asyncio.gather(*tasks))
    for k, op in enumerate(ops):
        op["due"] = start + k / rate
    return ops


async def measure(
    system, label: str, pids: list[int], n: int, targets: list[tuple[str, str]], origin: str,
    rates: list[float] = RATES, profile: Path | None = None, latency_requests: int = LATENCY_REQUESTS,
) -> dict:  # fmt: skip
    """Memory per idle socket; latency, one request at a time after two to warm up; then rising rates until
    saturated; then, with `profile`, a py-spy recording of pids[0] during a steady fan-out."""
    sockets = Sockets()
    try:
        await warm_up(targets, origin)
        before = sum(map(rss_kb, pids))
        await sockets.open(targets, origin)
        # The client keeps every arrival: its collector's full passes over them paused it for up to ~100 ms,
        # and each pause showed as a slow like. It collects nothing until the measurements are done.
        gc.collect()
        gc.disable()
        await asyncio.sleep(IDLE_SECONDS)
        result = {"rss_before_kb": before, "kb_per_socket": (sum(map(rss_kb, pids)) - before) / n, "steps": []}
        print(f"  {n} sockets: {label} RSS {before} KB, +{result['kb_per_socket']:.1f} KB per idle socket", flush=True)
        ops = []
        for k in range(2 + latency_requests):
            target = sockets.count + n
            ops.append(await system.fire(k))
            await sockets.wait(target, LOSS_TIMEOUT)
        system.resolve(ops)
        result["latency"] = stats(ops[2:], sockets.events, n)
        print(f"  latency: {summary(result['latency'])}", flush=True)

        async def step_at(rate: float) -> dict:
            target, cpu, began = sockets.count, cpu_seconds(pids), now()
            client, busy = sum(os.times()[:2]), machine_busy_seconds()  # this process: the client
            ops = await fire_at(system, rate, STEP_SECONDS)
            await sockets.wait(target + sum(op["ok"] for op in ops) * n, LOSS_TIMEOUT)
            system.resolve(ops)
            took = now() - began
            step = {"rate": rate, **stats(ops, sockets.events, n), "cpu_s": cpu_seconds(pids) - cpu,
                    "client_cores": (sum(os.times()[:2]) - client) / took,
                    "machine_cores": (machine_busy_seconds() - busy) / took}  # fmt: skip
            step["cpu_us_per_delivery"] = step["cpu_s"] / step["received"] * 1e6 if step["received"] else float("nan")
            step["kept_up"] = kept_up(step)
            result["steps"].append(step)
            print(f"  {rate:>5g} req/s: {summary(step)}", flush=True)
            return step

        for rate in rates:
            step = await step_at(rate)
            if not step["kept_up"] and step["deliveries_per_s"] < SATURATED * rate * n:
                break  # saturated: a faster step says nothing more
        for _ in range(REFINE_STEPS):
            between = refine(result["steps"])
            if between is None:
                break
            await step_at(between)
        result["best"] = max(
            (step for step in result["steps"] if step["kept_up"]), key=lambda step: step["rate"], default={}
        )
        result["peak"] = max(result["steps"], key=lambda step: step["deliveries_per_s"], default={})  # no `rates`
        result["event_bytes"] = max(len(text.encode()) for text in sockets.seqs)
        if profile:
            result["profile"] = await profile_fanout(system, sockets, pids[0], n, profile)
        return result
    finally:
        gc.enable()
        await sockets.close()
        await system.close()


def kept_up(step: dict) -> bool:
    """A step the system kept up with: nothing lost or failed, and no backlog growing faster than
    BACKLOG_GROWTH (a constant delay does not count against a system; a growing one would only grow on)."""
    return not step["lost"] and not step["failed"] and step["lag_growth"] <= BACKLOG_GROWTH


def refine(steps: list[dict]) -> float | None:
    """The rate halfway (geometric) between the fastest step kept up with and the slowest faster one that was
    not, or None when there is no such pair or they are within 5% of each other."""
    up = max((step["rate"] for step in steps if step["kept_up"]), default=None)
    down = min((step["rate"] for step in steps if not step["kept_up"] and up and step["rate"] > up), default=None)
    if up is None or down is None or down <= 1.05 * up:
        return None
    return round(math.sqrt(up * down), 2)


async def profile_fanout(system, sockets: Sockets, pid: int, n: int, path: Path) -> dict:
    """py-spy records `pid` while likes fan out to the N sockets for PROFILE_SECONDS, PROFILE_OFFERED
    deliveries a second: the same load at any N, one that every system keeps up with."""
    rate = PROFILE_OFFERED / n
    recorder = pyspy.record(pid, PROFILE_SECONDS + 1, path)
    await asyncio.sleep(0.5)  # py-spy attaches
    target = sockets.count
    ops = await fire_at(system, rate, PROFILE_SECONDS)
    await sockets.wait(target + sum(op["ok"] for op in ops) * n, LOSS_TIMEOUT)
    await asyncio.to_thread(recorder.wait, 60)
    system.resolve(ops)
    step = stats(ops, sockets.events, n)
    print(f"  profiled at {rate:g} req/s: {summary(step)}", flush=True)
    return {"rate": rate, "seconds": PROFILE_SECONDS, "deliveries": step["received"], "file": str(path),
            **pyspy.top(path)}  # fmt: skip
