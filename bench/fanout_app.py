"""miniapp as a fan-out system under test: a seeded copy with every user signed in, served by 1 or 2 Daphnes.

For N friends, in a fresh temporary VAR_DIR the app runs as in production (bench/common.app_env: DEBUG
off, static files collected; with debug=True as `make dev` runs it, DEBUG on), on SQLite and the in-memory
channel layer unless a database or Redis URL is given, and with LIKE_RATE and SHARE_RATE at 100000/minute
so the rate limits never interfere: `migrate`, `seed_demo --users N+1 --friends 2` (user0001 is everyone's
friend); then one Daphne serves the sign-ins of user0001 (the liker) and user0002..user(N+1) through
/login/?login_hint=... (requests, a thread pool) and stops. Sessions live in the database, so any number of
fresh Daphnes then serve the measurement: each friend opens one /ws/activity/ socket, split evenly over the
workers, and user0001 likes, unlikes, likes... the demo videos, the requests taking turns over the workers
as a proxy in front of them would spread them. The Activity table says which event a request made.
"""

import asyncio
import sqlite3
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import requests

from bench import common, fanout

LIKE_RATE = SHARE_RATE = "100000/minute"


def sign_in(url: str, nickname: str) -> requests.Session:
    """Sign in through the public sign-in (mock provider, login_hint), as a browser would."""
    session = requests.Session()
    session.trust_env = False  # no proxy: 127.0.0.1 only
    me = session.get(f"{url}/login/?login_hint={nickname}&next=/api/me/", timeout=60)
    if me.status_code != 200 or me.json().get("name") != nickname:
        raise RuntimeError(f"sign-in as {nickname} failed: {me.status_code} {me.text[:300]}")
    session.user_id = me.json()["id"]
    return session


def query(database_url: str, sql: str, params: list) -> list[tuple]:
    """Read the app's database directly (SQLite read-only, or PostgreSQL); `sql` uses %s placeholders."""
    if database_url.startswith("sqlite:///"):
        path = database_url.removeprefix("sqlite:///")
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            return db.execute(sql.replace("%s", "?"), params).fetchall()
    with psycopg.connect(database_url) as db:
        return db.execute(sql, params).fetchall()


class Liker:
    """user0001's likes and unlikes over HTTP: request k goes to video (k // 2) mod M, so each video gets a like,
    an unlike, a like..., and to worker k mod W (the workers take turns, as behind a proxy). Requests to one video
    wait for each other (a lock, a session and a thread each), so each one flips the like and makes exactly one
    Activity row (a like or a retract), whose id is the event's seq."""

    def __init__(self, urls: list[str], session: requests.Session, videos: list[int], database_url: str):
        self.urls, self.user_id, self.videos, self.database_url = urls, session.user_id, videos, database_url
        # Where an earlier run on the same data left things: which videos are liked, the last Activity row.
        liked = {row[0] for row in query(database_url, "SELECT video_id FROM engagement_like WHERE user_id = %s",
                                         [self.user_id])}  # fmt: skip
        self.liked = {video: video in liked for video in videos}
        self.after = query(database_url, "SELECT COALESCE(MAX(id), 0) FROM engagement_activity", [])[0][0]
        self.history: dict[int, list[dict]] = {video: [] for video in videos}  # successful requests, in order
        self.locks = {video: asyncio.Lock() for video in videos}
        self.sessions = {video: requests.Session() for video in videos}
        for copy in self.sessions.values():
            copy.trust_env = False
            copy.cookies.update(session.cookies)
        self.pool = ThreadPoolExecutor(len(videos))

    def send(self, video: int, url: str) -> dict:
        session, op = self.sessions[video], {"video": video, "kind": "unlike" if self.liked[video] else "like"}
        headers = {"X-CSRFToken": session.cookies["csrftoken"], "Referer": f"{url}/"}
        call = session.delete if self.liked[video] else session.post
        op["t0"] = fanout.now()
        try:
            op["ok"] = call(f"{url}/api/videos/{video}/like/", headers=headers, timeout=30).status_code == 200
        except requests.RequestException:
            op["ok"] = False
        op["done"] = fanout.now()
        if op["ok"]:
            self.liked[video] = not self.liked[video]
            self.history[video].append(op)
        return op

    async def fire(self, k: int) -> dict:
        video, url = self.videos[(k // 2) % len(self.videos)], self.urls[k % len(self.urls)]
        async with self.locks[video]:
            return await asyncio.get_running_loop().run_in_executor(self.pool, self.send, video, url)

    def resolve(self, ops: list[dict]) -> None:
        """A video's k-th successful request (since this Liker began) made its k-th Activity row."""
        sql = "SELECT video_id, id, verb FROM engagement_activity WHERE actor_id = %s AND id > %s ORDER BY id"
        by_video = defaultdict(list)
        for video, seq, verb in query(self.database_url, sql, [self.user_id, self.after]):
            by_video[video].append((seq, verb))
        for video, done in self.history.items():
            for op, (seq, verb) in zip(done, by_video[video], strict=False):
                op["seq"] = seq if verb == {"like": "like", "unlike": "retract"}[op["kind"]] else None

    async def close(self) -> None:
        self.pool.shutdown()
        for session in self.sessions.values():
            session.close()


@dataclass
class App:
    tmp: Path
    env: dict[str, str]
    database_url: str
    liker: requests.Session
    videos: list[int]
    cookies: list[str]  # one "sessionid=..." per friend


def daphne_command(port: int, application: str = "miniapp.asgi:application") -> list[str]:
    return [common.PYTHON, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), application]


@contextmanager
def log_on_error(log: Path):
    """A failure also prints the errors the server logged (its log is gone with the temporary directory)."""
    try:
        yield
    except Exception:
        print("  the server logged:", *common.log_problems(log, limit=10_000)[-20:], sep="\n    ", flush=True)
        raise


@contextmanager
def prepared(n: int, *, database_url: str | None = None, redis_url: str | None = None, redis_layer: str = "",
             workers: int = 8, debug: bool = False):  # fmt: skip
    """A seeded copy of the app for N friends with everyone signed in (see the module's docstring)."""
    with common.temp_dir() as tmp:
        port = common.free_port()
        url = f"http://127.0.0.1:{port}"
        database_url = database_url or f"sqlite:///{tmp / 'db.sqlite3'}"
        if debug:  # as `make dev`
            env = common.inherited_env()
            env.update(VAR_DIR=str(tmp), SITE_URL=url, DATABASE_URL=database_url)
        else:
            env = common.app_env(tmp, site_url=url, database_url=database_url)
        env.update(LIKE_RATE=LIKE_RATE, SHARE_RATE=SHARE_RATE)
        if redis_url:  # the scale-out channel layer and cache
            env.update(REDIS_URL=redis_url, **({"REDIS_LAYER": redis_layer} if redis_layer else {}))
        started = time.monotonic()
        common.manage(env, "migrate", "--no-input", timeout=300)
        common.manage(env, "seed_demo", "--users", str(n + 1), "--friends", "2", timeout=600)
        if not debug:
            common.manage(env, "collectstatic", "--no-input", timeout=300)  # the pages need the manifest
        steps = "migrate + seed_demo" + ("" if debug else " + collectstatic")
        print(f"  {steps}, {n + 1} users: {time.monotonic() - started:.1f} s", flush=True)
        with common.started(daphne_command(port), env, tmp / "signin.log", port), log_on_error(tmp / "signin.log"):
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
        yield App(tmp, env, database_url, liker, videos, cookies)


def run(app: App, n: int, *, workers: int = 1, label: str = "", cores: float | None = None, system=None,
        cookies: list[str] | None = None, **options):  # fmt: skip
    """Measure `app` served by `workers` fresh Daphnes: sockets split evenly, likes taking turns over them;
    with `cores`, each Daphne may use at most that many CPUs (common.cpu_capped). `system(urls)`, when
    given, makes the requests instead of the Liker (bench/groups.py: shares into a group), and `cookies`
    are the sockets' sessions instead of the friends'. `options` go to fanout.measure (rates, profile,
    latency_requests)."""
    with ExitStack() as stack:
        ports = common.free_ports(workers)
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        # Every socket's Origin is the first worker's, as behind one proxy every page is the
        # site's: the other workers trust it, as CSRF does (realtime.auth.origin_allowed).
        env = {**app.env, "CSRF_TRUSTED_ORIGINS": urls[0]}
        procs = [
            stack.enter_context(common.started(daphne_command(port), env, app.tmp / f"daphne-{i}.log", port))
            for i, port in enumerate(ports)
        ]
        for proc in procs if cores else []:
            stack.enter_context(common.cpu_capped(proc.pid, cores))
        targets = [
            (f"ws://127.0.0.1:{ports[i % workers]}/ws/activity/", cookie)
            for i, cookie in enumerate(cookies or app.cookies)
        ]
        system = system(urls) if system else Liker(urls, app.liker, app.videos, app.database_url)
        pids = [proc.pid for proc in procs]
        result = fanout.run_client(fanout.measure(system, label or "Daphne", pids, n, targets, urls[0], **options))
        # Before the servers stop: what they log while shutting down is not the benchmark's business.
        problems = [line for i in range(workers) for line in common.log_problems(app.tmp / f"daphne-{i}.log")]
    result["daphne_log_problems"] = problems
    print(f"  Daphne logs: {len(problems)} lines of errors and warnings", *problems[:12], sep="\n    ")
    return result
