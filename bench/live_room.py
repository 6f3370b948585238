"""A live room under taps: from a tap's answer to every viewer's room frame that counts it, V viewers, T taps/s.

One room (the live `seed_demo` leaves on air), V anonymous viewer sockets on `/ws/live/<id>/` (picows, one
client process, split evenly over the workers), and --tappers signed-in users (the load users user0001…, made
and signed in as bench/fanout_app.py does) tapping it. Each tapper sends a batch every --batch-every (250 ms,
as often as the page sends them; the tappers spread evenly over it) with the taps it owes at T / tappers taps
a second (`POST /api/lives/{id}/likes/` {"taps", "batch"}; over a user's 20 taps a second they would be
refused, so T / tappers must stay under it), one at a time as the page does (the next when the last is
answered: a slow server gets fewer, bigger batches, the taps a second stay), over a keep-alive connection of
its own; a batch not answered is sent again under the same name. The page then follows the room's pace, the
answer's `next` (250 ms in a quiet room, longer as more viewers tap: lives.tap_requests.Pace), and so do the
tappers unless --fixed-batches. The tappers run in a process of their own
(a small asyncio HTTP client on uvloop), so the client reading the viewer sockets is not slowed by them.
TAP_RATE is lifted (100000/minute). Set-ups:
- (a) the embedded default: SQLite, the in-memory layer, one Daphne; at each V of --viewers;
- (c) PostgreSQL + Redis, two Daphnes, viewers split evenly, the tappers taking turns over both (tapper i
  to worker i mod 2); at --c-viewers (default: the largest of --viewers).
Each on a fresh Daphne (or two) per V, in this order:
1. one socket to each worker opened and closed (what a worker sets up once is not the sockets' memory);
2. memory: one viewer a worker, the workers' VmRSS, then the other V - 1 (or V - 2) viewers, idle for 3 s:
   KB per viewer socket;
3. the measured phase: tappers for WARM_SECONDS + --seconds; figures over the --seconds after the warm-up
   (the tappers' first batches, their first likes in the live, fall in the warm-up);
4. taps only: all but one viewer a worker closed, the same taps for WARM_SECONDS + TAP_ONLY_SECONDS: the
   workers' CPU a second spent on the tap requests (for "CPU per frame without taps", below).
Figures of the measured phase:
- tap accepted -> frame including it: for each batch answered in the window with counted > 0, the time its
  answer arrived and the total it returned (`likes`); a viewer's frame includes it when its `likes` >= that
  total (the viewer's running maximum: it never goes back). Latency = that frame's receive time - the
  answer's receive time, one sample per (batch, viewer), all in one monotonic clock (CLOCK_MONOTONIC, shared
  by the two client processes). The tick reads the committed total, so a frame can arrive before the answer
  that made it (the answer still on its way): such samples are <= 0 and kept as they are (the table says
  what share). p50/p99/max over all samples, and "all viewers": per batch, until the last viewer had it;
- frames per viewer per second: frames received in the window / V / window (one tick a frame: at most 4);
- CPU per delivered frame: the workers' CPU time (user + system) in the window / frames received in it;
  "without taps": less the taps-only CPU a second (step 4) times the window;
- taps lost: the total before the phase + the `counted` of every answered batch against the final
  `Live.likes` (GET /api/lives/{id}/ and the database, after the last answer): must be equal; and every
  viewer's last frame must carry that final total (`last frames wrong`: viewers whose last `likes` differ,
  waited for up to FINAL_WAIT, 5 s, after the last answer);
- the tap request: send -> answer p50/p99 of the batches sent in the window.
A frame a viewer gets before its hello is kept as any other; the run notes how many sockets had one.
Baselines, at each V, right after miniapp's set-up(s) at that V, the same sockets from the same client, the
frames as miniapp's room frames (its `likers` list, `viewers` = V, a `seq` added), one a tick (TICK, the client
keeps the time; a late tick is sent at once), for WARM_SECONDS + --seconds:
- floor: bench/baselines.py's `websockets` server, each frame sent over its control socket and broadcast;
- stock Channels (bench/stock_channels.py, one Daphne): each frame POSTed to it (on time, each on a connection of
  its own, whether or not the last was answered), one `group_send` a tick to the
  group all viewers' consumers joined; on the in-memory layer (stock_memory, with (a)) and channels_redis'
  pub/sub layer (stock_pubsub, with (c));
  each measured: send -> receive of every frame on every socket (the floor's: the "4x the floor's p99" of the
  goal), frames lost, and tap -> frame as miniapp's, with taps made up: the same number of batches a second
  as the tappers send, evenly spread, the k-th including ceil(T x its time since the start) taps, each tick's
  frame carrying floor(T x its send time since the start): a frame includes a batch only if sent after it.
  A system that cannot keep up (stock at large V) builds a backlog and drops (the in-memory layer's capacity
  is 100 a channel): its figures grow with --seconds. The run waits for its queues to drain (until no frame
  for 3 s, at most 60 s).
Capacity (--capacity V1,V2,…, 0 to skip): one worker of (a), fresh, its viewers added step by step, the same
taps (--capacity-taps a second, default --taps) for --capacity-seconds at each step (after WARM_SECONDS); it
stops at the first step whose tap -> frame p99 is at least twice the first step's: one worker holds, at 4 ticks
a second, the largest step before that. The client holding all sockets in one process (picows) is part of the
machine: at large V it takes a growing share of the same 2 cores (its cores are printed).

Goals (issue 18) at V = 5,000 and T = 1,000, for (a) and (c): tap -> frame p99 <= one tick + 4x the floor's
send -> receive p99 at the same V; stock's tap -> frame p99 >= 5x ours (stock_memory for (a), stock_pubsub for
(c) when it ran); <= 35 KB per viewer socket; 0 taps lost (and every viewer's last frame the final total); the
tap request p99 < 20 ms.

--probe R: beside each miniapp step's taps, the tappers' process also asks a bare ASGI app (bench/http_cycle.py's,
under a Daphne of its own, holding no socket) R times a second over PROBE_CONNECTIONS keep-alive connections, and
the step reports that answer's p50/p99 ("bare p99"): what this machine, with the room running, gives a request
served by a process that writes no frames, measured by the same client as the tap requests.

PostgreSQL and Redis for (c): --database-url (a server whose role may CREATE DATABASE; a fresh database is
made and dropped) and --redis-url (a scratch Redis: it and the next database are flushed), else throwaway ones
(bench/backing.py), else (c) is skipped.

    .venv/bin/python bench/live_room.py [--viewers 1000,5000] [--taps 1000] [--tappers 200] [--seconds 30]
        [--batch-every 0.25] [--setups a,c] [--c-viewers 5000] [--capacity 1000,2000,4000,8000,16000]
        [--capacity-seconds 10] [--baselines floor,stock] [--database-url postgres://…] [--redis-url redis://…]
        [--probe 200] [--json PATH]
"""

import argparse
import asyncio
import contextlib
import gc
import json
import math
import os
import secrets
import string
import sys
import tempfile
import time
from array import array
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
from picows import WSCloseCode, WSMsgType, ws_connect
from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import backing, common, fanout, fanout_app, http_cycle  # noqa: E402

TICK = 0.25  # miniapp.lives.room_worker.TICK (not imported: that would need Django set up)
BATCH_EVERY = 0.25  # a tapper's batches, as the page sends them
FOLLOW_PACE = True  # then as the server paces them (the answer's `next`), as the page does; --fixed-batches: not
TAPS_PER_SECOND = 20  # a user's taps counted a second (miniapp.lives.taps.TAPS_PER_SECOND)
BATCH_MAX = 50  # taps in a batch (miniapp.lives.taps.BATCH_MAX)
TAP_RATE = "100000/minute"
WARM_SECONDS = 2.0  # of every phase, before its window: not in its figures
TAP_ONLY_SECONDS = 5.0
IDLE_SECONDS = 3.0
FINAL_WAIT = 5.0  # after the last answer: how long every viewer may take to show the final total
DRAIN_QUIET, DRAIN_MAX = 3.0, 60.0  # baselines: done when no frame came for 3 s (at most 60 s after the last)
SEND_TIMEOUT, SEND_TRIES = 30.0, 5
PROBE_CONNECTIONS = 20  # --probe's requests, spread over these
# After its window, a tapper's last batch may take this long: then the tappers stop, the batches still on their
# way counted as unanswered (a saturated server: the run reports it rather than waiting on).
LAST_ANSWER_WAIT = 20.0
GOAL = {"viewers": 5000, "taps": 1000, "floor_times": 4.0, "stock_over": 5.0, "kb_per_socket": 35.0,
        "tap_p99_ms": 20.0, "doubling": 2.0}  # fmt: skip
SETUPS = {"a": "(a) SQLite + memory, 1 Daphne", "c": "(c) PostgreSQL + Redis, 2 Daphnes"}
now = fanout.now  # CLOCK_MONOTONIC: the same clock in the tappers' process


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def rss_kb(pids: list[int]) -> int:
    return sum(fanout.rss_kb(pid) for pid in pids)


async def sleep_until(t: float) -> None:
    await asyncio.sleep(max(0.0, t - now()))


# --- a small HTTP/1.1 client: one keep-alive connection, JSON in and out ---------------------------------------


class Http:
    """One keep-alive HTTP/1.1 connection (asyncio streams), one request at a time: enough for Daphne's JSON
    answers (Content-Length, chunked, or until the connection closes), at a fraction of `requests`' CPU."""

    def __init__(self, url: str):
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self) -> None:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def request(self, method: str, path: str, body: bytes = b"", headers: dict | None = None):
        await self.connect()
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        try:
            head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            status, fields = int(head[0].split()[1]), {}
            for line in head[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    fields[name.strip().lower()] = value.strip()
            if "content-length" in fields:
                data = await self.reader.readexactly(int(fields["content-length"]))
            elif fields.get("transfer-encoding", "").lower() == "chunked":
                data = b""
                while True:
                    size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                    chunk = await self.reader.readexactly(size + 2)
                    if not size:
                        break
                    data += chunk[:-2]
            else:
                data = await self.reader.read()
                fields["connection"] = "close"
            if fields.get("connection", "").lower() == "close":
                self.close()
            return status, data
        except BaseException:
            self.close()
            raise

    async def json(self, path: str) -> dict:
        try:
            status, data = await self.request("GET", path)
        except (OSError, EOFError, asyncio.IncompleteReadError):  # the server closed it, idle: a GET again
            status, data = await self.request("GET", path)
        if status != 200:
            raise RuntimeError(f"GET {path}: {status} {data[:300]!r}")
        return json.loads(data)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None


# --- the tappers: a process of their own --------------------------------------------------------------------


async def tappers_main(config: dict) -> dict:
    """Each tapper (a session) sends its batches over its own connection, one at a time, due every
    `every` seconds from `start` (read from stdin once every connection is open), offset by its place among the
    tappers; each carries the taps owed since the last at T / tappers a second. Returns every answer."""
    urls, sessions, live_id = config["urls"], config["sessions"], config["live_id"]
    rate, seconds, run, every = config["taps"] / len(sessions), config["seconds"], config["run"], config["every"]
    paced = config.get("paced", True)
    path = f"/api/lives/{live_id}/likes/"
    records, unanswered, probed = [], [], []
    connections = [Http(urls[i % len(urls)]) for i in range(len(sessions))]
    probes = [Http(config["probe_url"]) for _ in range(PROBE_CONNECTIONS)] if config.get("probe_url") else []
    await asyncio.gather(*(http.connect() for http in connections + probes))
    print("ready", flush=True)
    start = float((await asyncio.to_thread(sys.stdin.readline)).strip())
    cpu = sum(os.times()[:2])

    async def tapper(i: int) -> None:
        http, url = connections[i], urls[i % len(urls)]
        token = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
        headers = {"Cookie": f"sessionid={sessions[i]}; csrftoken={token}", "X-CSRFToken": token, "Origin": url,
                   "Content-Type": "application/json"}  # fmt: skip
        # Paced as the page is: the next batch `pace` after the last one was sent (the answer's `next`, from
        # `every` at first), and at once if that has passed by the time the last one is answered.
        due, pace, sent, k = start + every * i / len(sessions), every, 0, 0
        while due <= start + seconds:
            k += 1
            await sleep_until(due)
            taps = min(BATCH_MAX, math.floor(rate * (now() - start)) - sent)
            if taps < 1:
                due += pace
                continue
            body = json.dumps({"taps": taps, "batch": f"{run}-{i}-{k}"}).encode()
            t_sent, answer, error = now(), None, ""
            for attempt in range(SEND_TRIES):
                try:
                    answer = await asyncio.wait_for(http.request("POST", path, body, headers), SEND_TIMEOUT)
                    break
                except (OSError, EOFError, ValueError, asyncio.IncompleteReadError, TimeoutError) as failure:
                    http.close()
                    error = repr(failure)
                    await asyncio.sleep(0.1 * (attempt + 1))
            sent += taps
            if answer is None:
                unanswered.append({"tapper": i, "batch": k, "taps": taps, "error": error})
                due = max(t_sent + pace, now())
                continue
            status, data = answer
            try:
                got = json.loads(data) if status in (200, 429) else {}
            except ValueError:
                got = {}
            records.append([t_sent, now(), status, got.get("likes", -1), got.get("counted", 0),
                            got.get("refused", 0), taps, i, attempt])  # fmt: skip
            if got.get("next") and paced:
                pace = got["next"] / 1000
            due = max(t_sent + pace, now())
            if status not in (200, 429) and len(unanswered) < 20:
                unanswered.append(
                    {"tapper": i, "batch": k, "status": status, "body": data[:200].decode(errors="replace")}
                )

    async def probe(i: int) -> None:
        """The bare answer, asked as often as --probe says over PROBE_CONNECTIONS connections."""
        http, every = probes[i], PROBE_CONNECTIONS / config["probe_rate"]
        due = start + every * i / PROBE_CONNECTIONS
        while due <= start + seconds:
            await sleep_until(due)
            t_sent = now()
            try:
                status, _ = await asyncio.wait_for(http.request("POST", "/probe", b"{}"), SEND_TIMEOUT)
            except (OSError, EOFError, ValueError, asyncio.IncompleteReadError, TimeoutError):
                http.close()
                status = 0
            probed.append([t_sent, now(), status])
            due = max(due + every, now())

    tasks = [asyncio.ensure_future(tapper(i)) for i in range(len(sessions))]
    tasks += [asyncio.ensure_future(probe(i)) for i in range(len(probes))]
    _, late = await asyncio.wait(tasks, timeout=seconds + LAST_ANSWER_WAIT)
    for task in late:  # still waiting for an answer long after the window: given up
        task.cancel()
    if late:
        await asyncio.wait(late)
        unanswered.append({"tappers_given_up": len(late)})
    for http in connections + probes:
        http.close()
    return {"records": records, "unanswered": unanswered, "probed": probed,
            "tappers_cpu_s": sum(os.times()[:2]) - cpu}  # fmt: skip


def tappers_child(config_path: str) -> None:
    config = json.loads(Path(config_path).read_text())
    result = fanout.run_client(tappers_main(config))
    Path(config["out"]).write_text(json.dumps(result))


async def tap_phase(urls: list[str], live_id: int, sessions: list[str], taps: float, seconds: float, pids: list[int],
                    viewers: "Viewers", api: Http, every: float = BATCH_EVERY, probe: tuple[str, float] | None = None,
                    ) -> dict:  # fmt: skip
    """The tappers for WARM_SECONDS + `seconds`, the workers' CPU over the window, the final total and how
    many viewers show it. Returns the phase's raw figures (see `tap_figures`). With `probe` (a bare ASGI app's
    URL, requests a second), the tappers' process also asks that app, as `probe_figures` reports."""
    initial = (await api.json(f"/api/lives/{live_id}/"))["likes"]
    with tempfile.TemporaryDirectory(prefix="miniapp-live-room-") as folder:
        config = {"urls": urls, "sessions": sessions, "live_id": live_id, "taps": taps, "out": f"{folder}/out.json",
                  "seconds": WARM_SECONDS + seconds, "run": secrets.token_hex(4), "every": every,
                  "paced": FOLLOW_PACE}  # fmt: skip
        if probe:
            config.update(probe_url=probe[0], probe_rate=probe[1])
        Path(folder, "config.json").write_text(json.dumps(config))
        child = await asyncio.create_subprocess_exec(
            common.PYTHON, __file__, "--tapper-child", f"{folder}/config.json", cwd=common.ROOT,
            env=common.inherited_env(), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            ready = await asyncio.wait_for(child.stdout.readline(), 120)
            if ready.strip() != b"ready":
                raise RuntimeError(f"the tappers did not start: {ready!r}")
            start = now() + 0.2
            child.stdin.write(f"{start!r}\n".encode())
            await child.stdin.drain()
            window = (start + WARM_SECONDS, start + WARM_SECONDS + seconds)
            await sleep_until(window[0])
            cpu, busy, client = fanout.cpu_seconds(pids), fanout.machine_busy_seconds(), sum(os.times()[:2])
            await sleep_until(window[1])
            cpu = fanout.cpu_seconds(pids) - cpu
            busy, client = fanout.machine_busy_seconds() - busy, sum(os.times()[:2]) - client
            if await asyncio.wait_for(child.wait(), LAST_ANSWER_WAIT + 60):
                raise RuntimeError(f"the tappers failed (exit {child.returncode})")
        finally:
            if child.returncode is None:
                child.kill()
                await child.wait()
        out = json.loads(Path(config["out"]).read_text())
    final = (await api.json(f"/api/lives/{live_id}/"))["likes"]
    deadline = now() + FINAL_WAIT
    while viewers.wrong(final) and now() < deadline:
        await asyncio.sleep(0.05)
    return {"initial": initial, "final": final, "wrong_last": viewers.wrong(final), "window": window, "cpu_s": cpu,
            "machine_cores": busy / seconds, "client_cores": client / seconds, "records": out["records"],
            "unanswered": out["unanswered"], "probed": out["probed"],
            "tappers_cores": out["tappers_cpu_s"] / (WARM_SECONDS + seconds)}  # fmt: skip


def tap_figures(phase: dict) -> dict:
    """Taps counted, lost (or extra: only possible with unanswered batches) and the request's latency."""
    records = phase["records"]
    w0, w1 = phase["window"]
    counted = sum(r[4] for r in records)
    expected = phase["initial"] + counted
    took = [(r[1] - r[0]) * 1000 for r in records if w0 <= r[0] < w1]
    statuses: dict[str, int] = {}
    for r in records:
        statuses[str(r[2])] = statuses.get(str(r[2]), 0) + 1
    return {"batches": len(records), "taps_sent": sum(r[6] for r in records), "counted": counted,
            "refused": sum(r[5] for r in records), "statuses": statuses, "retried": sum(1 for r in records if r[8]),
            "unanswered": phase["unanswered"][:20], "initial": phase["initial"], "final": phase["final"],
            "lost": max(0, expected - phase["final"]), "extra": max(0, phase["final"] - expected),
            "wrong_last": phase["wrong_last"],
            "request_p50_ms": fanout.percentile(took, 0.5), "request_p99_ms": fanout.percentile(took, 0.99),
            "request_max_ms": max(took, default=float("nan")), "requests_per_s": len(took) / (w1 - w0),
            "taps_per_s": sum(r[4] for r in records if w0 <= r[0] < w1) / (w1 - w0)}  # fmt: skip


def probe_figures(phase: dict) -> dict:
    """The bare answer's latency over the window, asked by the tappers' process beside its taps."""
    w0, w1 = phase["window"]
    took = [(r[1] - r[0]) * 1000 for r in phase["probed"] if w0 <= r[0] < w1 and r[2] == 200]
    return {"requests": len(took), "failed": sum(1 for r in phase["probed"] if w0 <= r[0] < w1 and r[2] != 200),
            "p50_ms": fanout.percentile(took, 0.5), "p99_ms": fanout.percentile(took, 0.99),
            "max_ms": max(took, default=float("nan")), "requests_per_s": len(took) / (w1 - w0)}  # fmt: skip


# --- the viewers ----------------------------------------------------------------------------------------------


class Viewers(fanout.Sockets):
    """The viewer sockets (fanout.Listener: picows, no task per frame): each frame after the hello is kept per
    socket as its receive time, its `likes` (-1: a frame without) and its `seq` (the baselines'; -1: none),
    in arrays; a frame's text is parsed once, not once per socket."""

    def __init__(self):
        super().__init__()
        self.recv: list[array] = []
        self.likes: list[array] = []
        self.seq: list[array] = []
        self.hello: list[int] = []
        self.parsed: dict[str, tuple[int, int, int, str]] = {}
        self.bytes = 0
        self.kinds: dict[str, int] = {}
        self.by_index: dict = {}  # index -> its transport
        self.closed: set[int] = set()
        self.before_hello: list[str] = []  # frames a socket had before its hello

    async def open(self, targets: list[tuple[str, str]], origin: str) -> None:
        """More sockets, numbered on from those already open, each waiting for its hello."""
        first = len(self.recv)
        for _ in targets:
            self.recv.append(array("d"))
            self.likes.append(array("q"))
            self.seq.append(array("q"))
            self.hello.append(-1)
        gate = asyncio.Semaphore(64)

        async def one(index: int, uri: str) -> None:
            async with gate:
                transport, listener = await ws_connect(
                    lambda: RoomListener(self, index), uri, extra_headers={"Origin": origin},
                    websocket_handshake_timeout=60,
                )  # fmt: skip
                self.transports.append(transport)
                self.by_index[index] = transport
                hello = json.loads(await asyncio.wait_for(listener.hello, 60))
                if hello.get("type") != "hello":
                    raise RuntimeError(f"first frame is not a hello: {hello}")
                self.hello[index] = hello.get("likes", -1)

        await asyncio.gather(*(one(first + i, uri) for i, (uri, _) in enumerate(targets)))

    def arrived(self, text: str, received: float, index: int) -> None:
        got = self.parsed.get(text)
        if got is None:
            frame = json.loads(text)
            kind = str(frame.get("type"))
            likes = frame.get("likes", -1) if kind == "room" else -1
            if len(self.parsed) > 50_000:
                self.parsed.clear()
            got = self.parsed[text] = (likes, frame.get("seq", -1), len(text.encode()), kind)
        self.recv[index].append(received)
        self.likes[index].append(got[0])
        self.seq[index].append(got[1])
        self.bytes += got[2]
        self.kinds[got[3]] = self.kinds.get(got[3], 0) + 1
        self.count += 1

    def last(self, index: int) -> int:
        likes = self.likes[index]
        return max(self.hello[index], max(likes) if likes else -1)

    def wrong(self, final: int) -> int:
        """Open viewers whose latest total is not `final`."""
        return sum(1 for i in range(len(self.recv)) if i not in self.closed and self.last(i) != final)

    async def close_from(self, first: int) -> None:
        """Close the sockets numbered `first` and on; the others stay."""
        closing = [self.by_index.pop(i) for i in range(first, len(self.recv)) if i in self.by_index]
        self.closed.update(range(first, len(self.recv)))
        for transport in closing:
            transport.send_close(WSCloseCode.OK)
            transport.disconnect()
        await asyncio.gather(*(t.wait_disconnected() for t in closing), return_exceptions=True)
        gone = set(map(id, closing))
        self.transports = [t for t in self.transports if id(t) not in gone]

    def frames_in(self, window: tuple[float, float], indexes=None) -> int:
        total = 0
        for i in range(len(self.recv)) if indexes is None else indexes:
            recv = np.frombuffer(self.recv[i], np.float64) if self.recv[i] else np.empty(0)
            lo, hi = np.searchsorted(recv, window)
            total += int(hi - lo)
        return total

    def room_frame(self) -> dict | None:
        """miniapp's latest room frame with likers, as received (the baselines send frames like it)."""
        for text in reversed(self.parsed):
            if text.startswith('{"type": "room"') and '"likers": []' not in text:
                return json.loads(text)
        return None


class RoomListener(fanout.Listener):
    """fanout.Listener, but a frame that comes before the hello is kept as any other and counted
    (`Viewers.before_hello`): the hello is the first frame of type "hello"."""

    def on_ws_frame(self, transport, frame) -> None:
        if self.hello.done() or frame.msg_type != WSMsgType.TEXT or not frame.fin:
            return super().on_ws_frame(transport, frame)
        received, text = now(), frame.get_payload_as_utf8_text()
        if json.loads(text).get("type") == "hello":
            self.hello.set_result(text)
        else:
            self.sockets.before_hello.append(text[:300])
            self.sockets.arrived(text, received, self.index)


BIN_MS, LOW_MS, HIGH_MS = 0.1, -1000.0, 180_000.0
BINS = int((HIGH_MS - LOW_MS) / BIN_MS) + 1


class Histogram:
    """Latencies in 0.1 ms bins from -1 s to 180 s (beyond: the last bin; max kept exactly)."""

    def __init__(self):
        self.counts = np.zeros(BINS, np.int64)
        self.pending: list[np.ndarray] = []
        self.n, self.nonpositive, self.max = 0, 0, -math.inf

    def add(self, ms: np.ndarray) -> None:
        if ms.size:
            self.pending.append(ms)
            self.n += ms.size
            self.nonpositive += int((ms <= 0).sum())
            self.max = max(self.max, float(ms.max()))
            if sum(p.size for p in self.pending) > 4_000_000:
                self.flush()

    def flush(self) -> None:
        if self.pending:
            bins = np.clip(((np.concatenate(self.pending) - LOW_MS) / BIN_MS).astype(np.int64), 0, BINS - 1)
            self.counts += np.bincount(bins, minlength=BINS)
            self.pending = []

    def percentile(self, q: float) -> float:
        self.flush()
        if not self.n:
            return float("nan")
        at = int(np.searchsorted(np.cumsum(self.counts), max(1, math.ceil(q * self.n))))
        return round(min(LOW_MS + (at + 1) * BIN_MS, self.max), 1)  # the bin's upper edge

    def summary(self) -> dict:
        return {"samples": self.n, "p50_ms": self.percentile(0.5), "p99_ms": self.percentile(0.99),
                "max_ms": round(self.max, 1) if self.n else float("nan"),
                "nonpositive_share": round(self.nonpositive / self.n, 4) if self.n else 0.0}  # fmt: skip


def tap_to_frame(viewers: Viewers, indexes: list[int], at: np.ndarray, totals: np.ndarray) -> dict:
    """One sample per (batch, viewer): the first frame of the viewer whose `likes` (its running maximum)
    reaches the batch's total, minus the batch's time. "all viewers": per batch, the slowest viewer's."""
    hist, worst, missing = Histogram(), np.full(len(at), -np.inf), 0
    for i in indexes:
        likes = np.frombuffer(viewers.likes[i], np.int64) if viewers.likes[i] else np.empty(0, np.int64)
        if not likes.size:
            missing += len(at)
            worst[:] = np.inf
            continue
        recv = np.frombuffer(viewers.recv[i], np.float64)
        found = np.searchsorted(np.maximum.accumulate(likes), totals, side="left")
        ok = found < likes.size
        ms = (recv[found[ok]] - at[ok]) * 1000
        hist.add(ms)
        worst[ok] = np.maximum(worst[ok], ms)
        worst[~ok] = np.inf
        missing += int((~ok).sum())
    result = hist.summary()
    finite = worst[np.isfinite(worst)]
    result.update(batches=len(at), missing=missing,
                  all_viewers_p50_ms=round(float(np.percentile(finite, 50)), 1) if finite.size else float("nan"),
                  all_viewers_p99_ms=round(float(np.percentile(finite, 99)), 1) if finite.size else float("nan"),
                  batches_not_all_viewers=int((~np.isfinite(worst)).sum()))  # fmt: skip
    return result


def send_to_receive(viewers: Viewers, indexes: list[int], sent: np.ndarray, window: tuple[float, float]) -> dict:
    """The baselines' frames: each socket's receive time minus the frame's send time (frames sent in the
    window), and how many of them never came."""
    hist, received = Histogram(), 0
    in_window = (sent >= window[0]) & (sent < window[1])
    for i in indexes:
        seq = np.frombuffer(viewers.seq[i], np.int64) if viewers.seq[i] else np.empty(0, np.int64)
        mask = seq >= 0
        seq, recv = seq[mask], np.frombuffer(viewers.recv[i], np.float64)[mask] if mask.size else np.empty(0)
        seq, first = np.unique(seq, return_index=True)  # a socket's first copy
        keep = in_window[seq]
        hist.add((recv[first][keep] - sent[seq[keep]]) * 1000)
        received += int(keep.sum())
    expected = int(in_window.sum()) * len(indexes)
    return {**hist.summary(), "expected": expected, "lost": expected - received}


# --- miniapp ---------------------------------------------------------------------------------------------------


def phase_result(viewers: Viewers, indexes: list[int], phase: dict, cpu_per_s_taps: float | None) -> dict:
    """The figures of a measured phase (see the module's docstring)."""
    records = phase["records"]
    w0, w1 = window = phase["window"]
    acked = [r for r in records if r[2] == 200 and r[4] > 0 and w0 <= r[1] < w1]
    at = np.array([r[1] for r in acked], np.float64)
    totals = np.array([r[3] for r in acked], np.int64)
    frames = viewers.frames_in(window, indexes)
    seconds = w1 - w0
    result = {"latency": tap_to_frame(viewers, indexes, at, totals), "taps": tap_figures(phase),
              "frames": frames, "frames_per_viewer_s": frames / len(indexes) / seconds,
              "cpu_s": phase["cpu_s"], "cpu_us_per_frame": phase["cpu_s"] / frames * 1e6 if frames else float("nan"),
              "machine_cores": phase["machine_cores"], "client_cores": phase["client_cores"],
              "tappers_cores": phase["tappers_cores"], "seconds": seconds}  # fmt: skip
    if cpu_per_s_taps is not None and frames:
        result["cpu_us_per_frame_without_taps"] = (phase["cpu_s"] - cpu_per_s_taps * seconds) / frames * 1e6
    return result


def summary(r: dict) -> str:
    lat, taps = r["latency"], r["taps"]
    return (f"tap -> frame p50 {lat['p50_ms']:.1f} p99 {lat['p99_ms']:.1f} max {lat['max_ms']:.1f} ms (all viewers "
            f"p99 {lat['all_viewers_p99_ms']:.1f}; <= 0: {lat['nonpositive_share']:.1%}; missing {lat['missing']}), "
            f"{r['frames_per_viewer_s']:.2f} frames/viewer/s, {r['cpu_us_per_frame']:.1f} CPU us/frame; taps "
            f"{taps['taps_per_s']:.0f}/s in {taps['requests_per_s']:.0f} requests/s, request p50 "
            f"{taps['request_p50_ms']:.1f} p99 {taps['request_p99_ms']:.1f} ms, lost {taps['lost']} (extra "
            f"{taps['extra']}), last frames wrong {taps['wrong_last']}; cores: server {r['cpu_s'] / r['seconds']:.2f}, "
            f"machine {r['machine_cores']:.2f}, "
            f"client {r['client_cores']:.2f}, tappers {r['tappers_cores']:.2f}")  # fmt: skip


def sessions_of(app: fanout_app.App) -> list[str]:
    return [app.liker.cookies["sessionid"], *(cookie.removeprefix("sessionid=") for cookie in app.cookies)]


async def live_on_air(api: Http) -> int:
    lives = (await api.json("/api/lives/?status=live"))["results"]
    if not lives:
        raise RuntimeError("no live on air (seed_demo leaves carol's)")
    return lives[0]["id"]


async def measure_room(urls: list[str], pids: list[int], n: int, sessions: list[str], args, database_url: str,
                       probe_url: str | None = None) -> dict:  # fmt: skip
    workers, origin = len(urls), urls[0]
    api = Http(urls[0])
    live_id = await live_on_air(api)
    uris = [f"{url.replace('http://', 'ws://')}/ws/live/{live_id}/" for url in urls]
    viewers = Viewers()
    try:
        await fanout.warm_up([(uri, "") for uri in uris], origin)
        await viewers.open([(uri, "") for uri in uris], origin)  # viewer i on worker i mod W
        await asyncio.sleep(1)
        gc.collect()
        before = rss_kb(pids)
        await viewers.open([(uris[i % workers], "") for i in range(workers, n)], origin)
        gc.collect()
        gc.disable()  # as bench/fanout.py: the client's collector pauses would show as slow frames
        await asyncio.sleep(IDLE_SECONDS)
        kb = (rss_kb(pids) - before) / max(1, n - workers)
        print(f"  {n} viewers: RSS {before} KB, +{kb:.1f} KB per idle viewer socket (load {load()})", flush=True)
        probe = (probe_url, args.probe) if probe_url else None
        phase = await tap_phase(
            urls, live_id, sessions, args.taps, args.seconds, pids, viewers, api, args.batch_every, probe
        )
        sql = "SELECT likes FROM lives_live WHERE id = %s"
        in_database = fanout_app.query(database_url, sql, [live_id])[0][0]
        # Then the taps' own cost: the same taps, one viewer a worker left.
        await viewers.close_from(workers)
        await asyncio.sleep(2)
        only = await tap_phase(
            urls, live_id, sessions, args.taps, TAP_ONLY_SECONDS, pids, viewers, api, args.batch_every
        )
        tap_only = {"cpu_per_s": only["cpu_s"] / TAP_ONLY_SECONDS, "taps": tap_figures(only)}
        result = phase_result(viewers, list(range(n)), phase, tap_only["cpu_per_s"])
        if probe:
            result["probe"] = probe_figures(phase)
        result["taps"]["database_final"] = in_database
        if in_database != result["taps"]["final"]:
            result["taps"]["lost"] += abs(in_database - result["taps"]["final"])  # the API and the row disagree
        result.update(kb_per_socket=kb, rss_before_kb=before, tap_only=tap_only, live_id=live_id, workers=workers,
                      frame_bytes=round(viewers.bytes / viewers.count) if viewers.count else 0,
                      frame_kinds=viewers.kinds, room_frame=viewers.room_frame(),
                      frames_before_hello=len(viewers.before_hello),
                      frames_before_hello_sample=viewers.before_hello[:3])  # fmt: skip
        if viewers.before_hello:
            print(f"  {len(viewers.before_hello)} sockets had a frame before their hello, e.g. "
                  f"{viewers.before_hello[0][:160]}", flush=True)  # fmt: skip
        print(f"  {summary(result)}", flush=True)
        if probe:
            bare = result["probe"]
            print(f"  bare answer (a process of its own, --probe {args.probe:g}/s): p50 {bare['p50_ms']:.1f} p99 "
                  f"{bare['p99_ms']:.1f} max {bare['max_ms']:.1f} ms, {bare['failed']} failed", flush=True)  # fmt: skip
        print(f"  then taps only (1 viewer a worker): {tap_only['cpu_per_s']:.2f} CPU s a second in the workers, "
              f"request p50 {tap_only['taps']['request_p50_ms']:.1f} p99 {tap_only['taps']['request_p99_ms']:.1f} ms, "
              f"lost {tap_only['taps']['lost']}, last frames wrong {tap_only['taps']['wrong_last']}",
              flush=True)  # fmt: skip
        return result
    finally:
        gc.enable()
        api.close()
        await viewers.close()


def run_miniapp(app: fanout_app.App, n: int, workers: int, args, label: str) -> dict:
    with contextlib.ExitStack() as stack:
        ports = common.free_ports(workers)
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        # Every socket's Origin is the first worker's, as behind one proxy (bench/fanout_app.run).
        env = {**app.env, "TAP_RATE": TAP_RATE, "CSRF_TRUSTED_ORIGINS": urls[0]}
        logs = [app.tmp / f"daphne-{label}-{n}-{i}.log" for i in range(workers)]
        procs = [
            stack.enter_context(common.started(fanout_app.daphne_command(port), env, log, port))
            for port, log in zip(ports, logs, strict=True)
        ]
        stack.enter_context(fanout_app.log_on_error(logs[0]))
        pids = [proc.pid for proc in procs]
        probe_url = None
        if args.probe:
            port = common.free_port()
            (app.tmp / "bare_app.py").write_text(http_cycle.BARE_APP)
            bare_env = {**common.inherited_env(), "PYTHONPATH": str(app.tmp)}
            bare = fanout_app.daphne_command(port, "bare_app:application")
            stack.enter_context(common.started(bare, bare_env, app.tmp / "bare.log", port))
            probe_url = f"http://127.0.0.1:{port}"
        result = fanout.run_client(measure_room(urls, pids, n, sessions_of(app), args, app.database_url, probe_url))
        problems = [line for log in logs for line in common.log_problems(log)]
    result["daphne_log_problems"] = problems
    print(f"  Daphne logs: {len(problems)} lines of errors and warnings", *problems[:12], sep="\n    ", flush=True)
    return result


async def capacity_steps(url: str, pid: int, steps: list[int], sessions: list[str], args) -> dict:
    api = Http(url)
    live_id = await live_on_air(api)
    uri = f"{url.replace('http://', 'ws://')}/ws/live/{live_id}/"
    viewers, rows = Viewers(), []
    try:
        await fanout.warm_up([(uri, "")], url)
        for n in steps:
            await viewers.open([(uri, "")] * (n - len(viewers.recv)), url)
            gc.collect()
            gc.disable()
            await asyncio.sleep(2)
            phase = await tap_phase(
                [url],
                live_id,
                sessions,
                args.capacity_taps,
                args.capacity_seconds,
                [pid],
                viewers,
                api,
                args.batch_every,
            )
            step = phase_result(viewers, list(range(n)), phase, None)
            step.update(viewers=n, rss_kb=fanout.rss_kb(pid))
            rows.append(step)
            print(f"  {n} viewers: {summary(step)}", flush=True)
            first = rows[0]["latency"]["p99_ms"]
            if step["latency"]["p99_ms"] >= GOAL["doubling"] * first or step["taps"]["wrong_last"]:
                break
        first = rows[0]["latency"]["p99_ms"]
        held = [r["viewers"] for r in rows if r["latency"]["p99_ms"] < GOAL["doubling"] * first and not
                r["taps"]["wrong_last"]]  # fmt: skip
        doubled = next((r["viewers"] for r in rows if r["viewers"] not in held), None)
        return {"steps": rows, "held": max(held, default=None), "doubled_at": doubled, "first_p99_ms": first,
                "frames_before_hello": len(viewers.before_hello)}  # fmt: skip
    finally:
        gc.enable()
        api.close()
        await viewers.close()


def run_capacity(app: fanout_app.App, steps: list[int], args) -> dict:
    with contextlib.ExitStack() as stack:
        port = common.free_port()
        url = f"http://127.0.0.1:{port}"
        env = {**app.env, "TAP_RATE": TAP_RATE}
        log = app.tmp / "daphne-capacity.log"
        proc = stack.enter_context(common.started(fanout_app.daphne_command(port), env, log, port))
        stack.enter_context(fanout_app.log_on_error(log))
        result = fanout.run_client(capacity_steps(url, proc.pid, steps, sessions_of(app), args))
        result["daphne_log_problems"] = common.log_problems(log)
    return result


# --- the baselines ---------------------------------------------------------------------------------------------

DEFAULT_LIKERS = [
    {"id": 7, "name": "user0007", "avatar": "http://127.0.0.1:8000/mockwx/avatar/user0007.svg"},
    {"id": 5, "name": "user0005", "avatar": "http://127.0.0.1:8000/mockwx/avatar/user0005.svg"},
    {"id": 3, "name": "user0003", "avatar": "http://127.0.0.1:8000/mockwx/avatar/user0003.svg"},
]


async def tick_frames(send, n: int, likers: list, args, pids: list[int], viewers: Viewers) -> dict:
    """One frame a tick for WARM_SECONDS + --seconds, the servers' CPU over the window, then the drain."""
    start = now() + 0.1
    end, sent, last_likes, k = start + WARM_SECONDS + args.seconds, [], 0, 0
    window = (start + WARM_SECONDS, end)

    async def cpu_over_window() -> tuple[float, float, float]:
        await sleep_until(window[0])
        cpu, busy, client = fanout.cpu_seconds(pids), fanout.machine_busy_seconds(), sum(os.times()[:2])
        await sleep_until(window[1])
        return (fanout.cpu_seconds(pids) - cpu, fanout.machine_busy_seconds() - busy,
                sum(os.times()[:2]) - client)  # fmt: skip

    meter = asyncio.ensure_future(cpu_over_window())
    while (due := start + k * TICK) < end:
        await sleep_until(due)
        t0 = now()
        likes = math.floor(args.taps * (t0 - start))
        frame = {"type": "room", "likes": likes, "delta": likes - last_likes, "viewers": n, "likers": likers, "seq": k}
        await send(json.dumps(frame, ensure_ascii=False))
        sent.append(t0)
        last_likes, k = likes, k + 1
    cpu, busy, client = await meter
    # Drained: every socket has the last frame, or nothing came for DRAIN_QUIET (a system that drops frames).
    seen, quiet_since, deadline = viewers.count, now(), now() + DRAIN_MAX
    while now() < deadline and now() - quiet_since < DRAIN_QUIET:
        if all(s and s[-1] == k - 1 for s in viewers.seq):
            break
        await asyncio.sleep(0.05)
        if viewers.count != seen:
            seen, quiet_since = viewers.count, now()
    seconds = window[1] - window[0]
    # The batches the tappers would have sent: tappers / --batch-every a second, evenly spread.
    every = args.batch_every / args.tappers
    at = np.arange(start + every / 2, end, every)
    totals = np.ceil(args.taps * (at - start)).astype(np.int64)
    keep = (at >= window[0]) & (at < window[1])
    indexes = list(range(n))
    frames = viewers.frames_in(window, indexes)
    return {"latency": tap_to_frame(viewers, indexes, at[keep], totals[keep]),
            "broadcast": send_to_receive(viewers, indexes, np.array(sent), window), "ticks": k,
            "ticks_late_ms_p99": fanout.percentile([(t - (start + i * TICK)) * 1000 for i, t in enumerate(sent)], 0.99),
            "frames": frames, "frames_per_viewer_s": frames / n / seconds, "cpu_s": cpu,
            "cpu_us_per_frame": cpu / frames * 1e6 if frames else float("nan"), "machine_cores": busy / seconds,
            "client_cores": client / seconds, "seconds": seconds}  # fmt: skip


async def measure_baseline(kind: str, uri: str, http_url: str | None, pids: list[int], n: int, likers: list,
                           args) -> dict:  # fmt: skip
    viewers, control, triggers = Viewers(), None, []
    try:
        await fanout.warm_up([(uri, "")], "http://127.0.0.1")
        gc.collect()
        before = rss_kb(pids)
        await viewers.open([(uri, "")] * n, "http://127.0.0.1")
        gc.collect()
        gc.disable()
        await asyncio.sleep(IDLE_SECONDS)
        kb = (rss_kb(pids) - before) / n
        print(f"  {n} sockets: {kind} RSS {before} KB, +{kb:.1f} KB per idle socket", flush=True)
        if http_url is None:
            control = await connect(f"{uri}control", **fanout.CLIENT)
            send = control.send
        else:
            # Each tick's trigger on a connection of its own, not waiting for the last one's answer: a
            # saturated server answers late, and the ticks must still go out on time (they queue there).
            async def post(text: str) -> None:
                trigger = Http(http_url)
                try:
                    head = {"Content-Type": "application/json"}
                    status, body = await trigger.request("POST", "/tick", text.encode(), head)
                finally:
                    trigger.close()
                if status != 200:
                    raise RuntimeError(f"the stock app's trigger: {status} {body[:200]!r}")

            async def send(text: str) -> None:
                triggers.append(asyncio.ensure_future(post(text)))

        result = await tick_frames(send, n, likers, args, pids, viewers)
        failed = [t for t in triggers if t.done() and not t.cancelled() and t.exception() is not None]
        if failed:
            raise failed[0].exception()
        result["triggers_unanswered"] = sum(1 for t in triggers if not t.done())
        result.update(kb_per_socket=kb, rss_before_kb=before,
                      frame_bytes=round(viewers.bytes / viewers.count) if viewers.count else 0)  # fmt: skip
        b, lat = result["broadcast"], result["latency"]
        print(f"  send -> receive p50 {b['p50_ms']:.1f} p99 {b['p99_ms']:.1f} max {b['max_ms']:.1f} ms, lost "
              f"{b['lost']}/{b['expected']}; tap -> frame p50 {lat['p50_ms']:.1f} p99 {lat['p99_ms']:.1f} ms; "
              f"{result['frames_per_viewer_s']:.2f} frames/viewer/s, {result['cpu_us_per_frame']:.1f} CPU us/frame; "
              f"ticks late p99 {result['ticks_late_ms_p99']:.1f} ms; cores: machine {result['machine_cores']:.2f}, "
              f"client {result['client_cores']:.2f}", flush=True)  # fmt: skip
        return result
    finally:
        gc.enable()
        if control is not None:
            await control.close()
        for trigger in triggers:
            trigger.cancel()
        await viewers.close()


def run_floor(n: int, likers: list, args) -> dict:
    with common.temp_dir() as tmp:
        port = common.free_port()
        command = [common.PYTHON, "-m", "bench.baselines", str(port)]
        with common.started(command, common.inherited_env(), tmp / "floor.log", port) as proc:
            uri = f"ws://127.0.0.1:{port}/"
            return fanout.run_client(measure_baseline("floor", uri, None, [proc.pid], n, likers, args))


def run_stock(n: int, layer: str, redis_url: str | None, likers: list, args) -> dict:
    with common.temp_dir() as tmp:
        port = common.free_port()
        env = {**common.inherited_env(), "STOCK_LAYER": layer, "STOCK_REDIS_URL": redis_url or ""}
        if redis_url:
            backing.flush_redis(redis_url)
        command = fanout_app.daphne_command(port, "bench.stock_channels:application")
        with common.started(command, env, tmp / "daphne.log", port) as proc:
            uri, url = f"ws://127.0.0.1:{port}/ws/", f"http://127.0.0.1:{port}"
            result = fanout.run_client(measure_baseline(f"stock {layer}", uri, url, [proc.pid], n, likers, args))
            result["daphne_log_problems"] = common.log_problems(tmp / "daphne.log")
        return result


# --- the report ------------------------------------------------------------------------------------------------

HEADERS = ["set-up", "V", "system", "p50 ms", "p99 ms", "max ms", "all viewers p99", "<= 0 ms", "send->recv p99",
           "frames/viewer/s", "server cores", "CPU us/frame", "w/o taps", "KB/socket", "taps/s", "tap req/s",
           "tap p50 ms", "tap p99 ms", "bare p99 ms", "lost"]  # fmt: skip
SYSTEM_NAMES = {"miniapp": "miniapp", "floor": "floor (websockets)", "stock_memory": "stock Channels, memory",
                "stock_pubsub": "stock Channels, Redis pub/sub"}  # fmt: skip


def number(value, digits: int = 1):
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else round(value, digits)


def rows_of(runs: list[dict]) -> list[list]:
    rows = []
    for run in runs:
        head = [SETUPS[run["setup"]].split(",")[0] if run["setup"] in SETUPS else run["setup"], run["viewers"],
                SYSTEM_NAMES[run["system"]]]  # fmt: skip
        r = run["result"]
        if "error" in r:
            rows.append([*head, "failed", *[""] * (len(HEADERS) - 5), r["error"][:80]])
            continue
        lat, taps, b = r["latency"], r.get("taps"), r.get("broadcast")
        lost = f"{taps['lost']} (+{taps['extra']}) / {taps['wrong_last']}" if taps else f"{b['lost']}/{b['expected']}"
        rows.append([*head, number(lat["p50_ms"]), number(lat["p99_ms"]), number(lat["max_ms"]),
                     number(lat["all_viewers_p99_ms"]), f"{lat['nonpositive_share']:.1%}",
                     number(b["p99_ms"]) if b else "", number(r["frames_per_viewer_s"], 2),
                     number(r["cpu_s"] / r["seconds"], 2), number(r["cpu_us_per_frame"]),
                     number(r.get("cpu_us_per_frame_without_taps")), number(r["kb_per_socket"]),
                     number(taps["taps_per_s"], 0) if taps else "", number(taps["requests_per_s"], 0) if taps else "",
                     number(taps["request_p50_ms"]) if taps else "", number(taps["request_p99_ms"]) if taps else "",
                     number(r["probe"]["p99_ms"]) if "probe" in r else "", lost])  # fmt: skip
    return rows


NOTE = (
    "p50/p99/max: tap accepted (its answer received) -> each viewer's first frame whose likes include it, one "
    "sample per (batch, viewer); floor and stock: made-up batches (as many a second as the tappers send), a "
    "tick's frame carrying the taps before it was sent. all viewers p99: per batch, until the last viewer had "
    "it. <= 0 ms: samples where the frame came before the answer (kept as they are). send->recv: the baselines' "
    "frame sent -> received on each socket. server cores: the server processes' CPU seconds a second in the "
    "window (near 1 a worker: saturated). CPU us/frame: their CPU in the window / frames received (miniapp: "
    "the tap requests included; w/o taps: less the taps-only CPU, meaningless when saturated). KB/socket: RSS "
    "growth a connected idle socket. taps/s, tap req/s: taps counted and tap requests a second (offered: --taps, "
    "and at most --tappers / --batch-every requests). bare p99: with --probe, a bare ASGI app in a process of its "
    "own, asked by the tappers' process in the same window. lost: miniapp taps lost (+ extra) / viewers whose last "
    "frame is not the final total; baselines: frames sent in the window never received."
)


def find(runs: list[dict], setup: str, system: str, n: int) -> dict | None:
    for run in runs:
        if run["setup"] == setup and run["system"] == system and run["viewers"] == n and "error" not in run["result"]:
            return run["result"]
    return None


def goals(runs: list[dict], n: int) -> list[list]:
    table = []
    for setup, stock in (("a", ("stock_memory",)), ("c", ("stock_pubsub", "stock_memory"))):
        ours = find(runs, setup, "miniapp", n)
        if ours is None:
            continue
        floor = find(runs, setup, "floor", n) or find(runs, "a", "floor", n)
        stock_run = next((find(runs, s, kind, n) for kind in stock for s in (setup, "a") if find(runs, s, kind, n)),
                         None)  # fmt: skip
        p99, taps, label = ours["latency"]["p99_ms"], ours["taps"], SETUPS[setup]
        if floor:
            bound = TICK * 1000 + GOAL["floor_times"] * floor["broadcast"]["p99_ms"]
            table.append([label, f"p99 <= one tick + {GOAL['floor_times']:g}x the floor's p99 ({bound:.1f} ms)",
                          number(p99), "pass" if p99 <= bound else "FAIL"])  # fmt: skip
        if stock_run:
            # A sample that never arrived (the frame dropped, or still queued after the drain) is later than any:
            # past 1 % of them, stock's p99 is "never".
            lat = stock_run["latency"]
            never = lat["missing"] / (lat["samples"] + lat["missing"]) if lat["samples"] + lat["missing"] else 0
            over = math.inf if never > 0.01 else (lat["p99_ms"] / p99 if p99 else None)
            shown = f"inf ({never:.0%} never came)" if over == math.inf else number(over, 2)
            table.append([label, f"stock's p99 >= {GOAL['stock_over']:g}x ours", shown,
                          "pass" if over and over >= GOAL["stock_over"] else "FAIL"])  # fmt: skip
        kb = ours["kb_per_socket"]
        table.append([label, f"<= {GOAL['kb_per_socket']:g} KB per viewer socket", number(kb),
                      "pass" if kb <= GOAL["kb_per_socket"] else "FAIL"])  # fmt: skip
        bad = taps["lost"] + taps["extra"] + taps["wrong_last"] + ours["latency"]["missing"]
        table.append([label, "0 taps lost (final total exact, every viewer's last frame it)", bad,
                      "pass" if not bad else "FAIL"])  # fmt: skip
        tap = taps["request_p99_ms"]
        table.append([label, f"tap request p99 < {GOAL['tap_p99_ms']:g} ms", number(tap),
                      "pass" if tap < GOAL["tap_p99_ms"] else "FAIL"])  # fmt: skip
    return table


CAPACITY_HEADERS = ["viewers", "p50 ms", "p99 ms", "p99 / first", "all viewers p99", "frames/viewer/s",
                    "server cores", "CPU us/frame", "RSS MB", "taps/s", "tap p99 ms", "lost", "client cores",
                    "machine cores"]  # fmt: skip


def capacity_rows(capacity: dict) -> list[list]:
    first = capacity["first_p99_ms"]
    return [[s["viewers"], number(s["latency"]["p50_ms"]), number(s["latency"]["p99_ms"]),
             number(s["latency"]["p99_ms"] / first, 2), number(s["latency"]["all_viewers_p99_ms"]),
             number(s["frames_per_viewer_s"], 2), number(s["cpu_s"] / s["seconds"], 2),
             number(s["cpu_us_per_frame"]), number(s["rss_kb"] / 1024), number(s["taps"]["taps_per_s"], 0),
             number(s["taps"]["request_p99_ms"]), f"{s['taps']['lost']} / {s['taps']['wrong_last']}",
             number(s["client_cores"], 2), number(s["machine_cores"], 2)] for s in capacity["steps"]]  # fmt: skip


def attempt(runs: list[dict], setup: str, system: str, n: int, run) -> dict:
    """run(); a failure is noted and the others go on (the run's time limit stops everything)."""
    print(f"{SETUPS.get(setup, setup)}, V={n}: {SYSTEM_NAMES[system]} (load {load()})", flush=True)
    try:
        result = run()
    except TimeoutError:
        raise
    except Exception as error:  # noqa: BLE001  (one broken system must not lose the others' figures)
        print(f"  FAILED: {error!r}", flush=True)
        result = {"error": repr(error)}
    runs.append({"setup": setup, "system": system, "viewers": n, "result": result})
    return result


def likers_of(runs: list[dict]) -> list:
    for run in reversed(runs):
        frame = run["result"].get("room_frame")
        if frame and frame.get("likers"):
            return frame["likers"]
    return DEFAULT_LIKERS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", default="1000,5000", help="viewer sockets of (a), comma-separated")
    parser.add_argument("--c-viewers", type=int, help="viewer sockets of (c) (default: the largest of --viewers)")
    parser.add_argument("--taps", type=float, default=1000, help="taps a second, all tappers together")
    parser.add_argument("--tappers", type=int, default=200, help="signed-in users tapping, a batch every 250 ms")
    parser.add_argument("--seconds", type=float, default=30, help="the measured window of each phase")
    parser.add_argument("--batch-every", type=float, default=BATCH_EVERY, help="seconds between a tapper's batches")
    parser.add_argument(
        "--fixed-batches",
        action="store_true",
        help="tappers send every --batch-every whatever the server's pace (the answers' `next`)",
    )
    parser.add_argument("--setups", default="a,c", help="which of a (SQLite + memory) and c (PostgreSQL + Redis)")
    parser.add_argument("--baselines", default="floor,stock", help="floor and/or stock, or none")
    parser.add_argument("--capacity", default="1000,2000,4000,8000,16000",
                        help="viewers of one (a) worker step by step, until p99 doubles; 0: skip")  # fmt: skip
    parser.add_argument("--capacity-seconds", type=float, default=10, help="the measured window of each step")
    parser.add_argument("--capacity-taps", type=float, help="taps a second of the capacity steps (default: --taps)")
    parser.add_argument("--database-url", help="a PostgreSQL server (URL of any database) allowed to CREATE DATABASE")
    parser.add_argument("--redis-url", help="a scratch Redis database (it and the next are flushed)")
    parser.add_argument("--time-limit", type=int, default=3600, help="seconds before the run gives up")
    parser.add_argument(
        "--probe",
        type=float,
        default=0,
        help="requests a second to a bare ASGI app in a process of its own during each miniapp step",
    )
    parser.add_argument("--tapper-child", help=argparse.SUPPRESS)
    common.json_argument(parser)
    args = parser.parse_args()
    if args.tapper_child:
        tappers_child(args.tapper_child)
        return
    global FOLLOW_PACE
    FOLLOW_PACE = not args.fixed_batches
    sizes = [int(x) for x in args.viewers.split(",") if x]
    setups = [s for s in args.setups.split(",") if s]
    baselines = {b for b in args.baselines.split(",") if b and b != "none"}
    steps = [int(x) for x in args.capacity.split(",") if x and x != "0"]
    c_viewers = args.c_viewers or max(sizes, default=GOAL["viewers"])
    if set(setups) - set(SETUPS) or baselines - {"floor", "stock"}:
        parser.error("--setups: a and/or c; --baselines: floor and/or stock")
    args.capacity_taps = args.capacity_taps or args.taps
    if args.tappers < 2 or max(args.taps, args.capacity_taps) / args.tappers > TAPS_PER_SECOND:
        parser.error(f"--tappers: at least 2, and --taps / --tappers at most {TAPS_PER_SECOND} (a user's limit)")
    if not 0.05 <= args.batch_every <= 5 or args.taps / args.tappers * args.batch_every > BATCH_MAX:
        parser.error(f"--batch-every: 0.05 to 5 s, and at most {BATCH_MAX} taps a batch")
    if min([*sizes, c_viewers, *steps]) < 2:
        parser.error("at least 2 viewers (one a worker, then the others)")
    common.raise_fd_limit(2 * max([*sizes, c_viewers, *steps]) + 4 * args.tappers + 1024)
    common.time_limit(args.time_limit)
    started, runs, capacity, loads = time.monotonic(), [], None, {"start": load()}
    backing_services = (
        backing.services(args.database_url, args.redis_url)
        if "c" in setups
        else contextlib.nullcontext((None, None, "no PostgreSQL or Redis needed"))
    )
    with backing_services as (database_url, redis_url, where):
        print(f"live_room: V {sizes} (a), {c_viewers} (c); {args.taps:g} taps/s from {args.tappers} tappers; "
              f"{args.seconds:g} s windows; {where}; load {loads['start']}", flush=True)  # fmt: skip
        if "a" in setups:
            with fanout_app.prepared(args.tappers - 1) as app:
                for n in sizes:
                    attempt(runs, "a", "miniapp", n, lambda n=n: run_miniapp(app, n, 1, args, "a"))
                    if "floor" in baselines:
                        attempt(runs, "a", "floor", n, lambda n=n: run_floor(n, likers_of(runs), args))
                    if "stock" in baselines:
                        attempt(runs, "a", "stock_memory", n,
                                lambda n=n: run_stock(n, "memory", None, likers_of(runs), args))  # fmt: skip
                if steps:
                    print(f"Capacity: one (a) worker, viewers {steps} (load {load()})", flush=True)
                    try:
                        capacity = run_capacity(app, steps, args)
                    except TimeoutError:
                        raise
                    except Exception as error:  # noqa: BLE001
                        print(f"  FAILED: {error!r}", flush=True)
                        capacity = {"error": repr(error)}
            loads["after_a"] = load()
        if "c" in setups and database_url:
            n = c_viewers

            def setup_c() -> dict:
                with backing.fresh_database(database_url) as fresh:
                    backing.flush_redis(redis_url)
                    with fanout_app.prepared(args.tappers - 1, database_url=fresh, redis_url=redis_url) as app:
                        return run_miniapp(app, n, 2, args, "c")

            attempt(runs, "c", "miniapp", n, setup_c)
            if "floor" in baselines:
                attempt(runs, "c", "floor", n, lambda: run_floor(n, likers_of(runs), args))
            if "stock" in baselines:
                attempt(runs, "c", "stock_pubsub", n, lambda: run_stock(n, "pubsub", redis_url, likers_of(runs), args))
            loads["after_c"] = load()
        elif "c" in setups:
            print(f"(c) skipped: {where}")
    rows = rows_of(runs)
    title = (
        f"One room, V viewers, {args.taps:g} taps/s from {args.tappers} tappers ({args.seconds:g} s windows; {where})"
    )
    print(f"\n{title}\n" + common.table(HEADERS, rows))
    sizes_seen = [r["viewers"] for r in runs if "error" not in r["result"] and r["system"] == "miniapp"]
    bytes_seen = {r["system"]: r["result"]["frame_bytes"] for r in runs if "frame_bytes" in r["result"]}
    notes = [NOTE, f"Frame bytes (mean of all frames received): {bytes_seen}."]
    early = {f"{r['setup']} {r['viewers']}": r["result"]["frames_before_hello"] for r in runs
             if r["result"].get("frames_before_hello")}  # fmt: skip
    if capacity and capacity.get("frames_before_hello"):
        early["capacity"] = capacity["frames_before_hello"]
    if early:
        notes.append(f"Room sockets that had a room frame before their hello (its delta the whole total): {early}.")
    print("\n".join(notes))
    tables = {title: (HEADERS, rows)}
    goal_n = GOAL["viewers"] if GOAL["viewers"] in sizes_seen else max(sizes_seen, default=None)
    if goal_n is not None:
        table = goals(runs, goal_n)
        said = f"Goals at V={goal_n:,}, T={args.taps:g}"
        if goal_n != GOAL["viewers"] or args.taps != GOAL["taps"]:
            said += f" (they are set for V={GOAL['viewers']:,}, T={GOAL['taps']:,})"
        print(f"\n{said}\n" + common.table(["set-up", "goal", "value", "met"], table))
        tables[said] = (["set-up", "goal", "value", "met"], table)
    if capacity and "steps" in capacity and capacity["steps"]:
        rows = capacity_rows(capacity)
        title = (f"Capacity: one (a) worker at 4 ticks/s, {args.capacity_taps:g} taps/s, viewers added step by step "
                 f"({args.capacity_seconds:g} s a step)")  # fmt: skip
        print(f"\n{title}\n" + common.table(CAPACITY_HEADERS, rows))
        tables[title] = (CAPACITY_HEADERS, rows)
        if capacity["doubled_at"]:
            said = (f"One worker holds {capacity['held']:,} viewers at 4 ticks/s before its p99 doubles (p99 "
                    f"{capacity['first_p99_ms']:.1f} ms at {steps[0]:,}; doubled or worse at "
                    f"{capacity['doubled_at']:,}).")  # fmt: skip
        else:
            said = (f"One worker held all {capacity['held']:,} viewers tried without its p99 doubling (p99 "
                    f"{capacity['first_p99_ms']:.1f} ms at {steps[0]:,}).")  # fmt: skip
        print(said)
        notes.append(said)
    elif capacity:
        print(f"\nCapacity: failed: {capacity.get('error')}")
    loads["end"] = load()
    print(f"\nLoad average: {loads}. Whole run {time.monotonic() - started:.0f} s.")
    figures = {"viewers": sizes, "c_viewers": c_viewers, "taps": args.taps, "tappers": args.tappers,
               "seconds": args.seconds, "services": where, "load": loads, "runs": runs,
               "capacity": capacity}  # fmt: skip
    common.write_results(args.json, figures, tables=tables, notes=notes)


if __name__ == "__main__":
    main()
