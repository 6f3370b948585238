"""One HTTP request through Daphne, send to answer: a bare ASGI answer, Django's own ASGI handler, and ours.

What a request costs besides its view: the same Daphne serves, one after the other,
1. bare: an ASGI application that answers at once (what Daphne and the client cost);
2. stock: miniapp with Django's `ASGIHandler` for HTTP (bench/stock_handler_app.py), as it ran
   before `lib.asgi_handler`, connections closed after each request (DB_CONN_MAX_AGE=0);
3. ours: miniapp as it runs (`miniapp.asgi`, `lib.asgi_handler.SyncRequestHandler`).
Each miniapp Daphne gets `GET /api/me/` (a session, its user, a small JSON answer) and a like
taken back and given again (`POST`/`DELETE /api/videos/<id>/like/` by a user with --friends
friends, none online), --requests of each one at a time from one keep-alive connection
(http.client), after 20 to warm up; and the views' own time in-process (django.test.Client in
a process of its own) for comparison. On a fresh seeded copy of the app (bench/fanout_app.py:
SQLite and the in-memory layer, or with --database-url/--redis-url PostgreSQL and Redis).

    .venv/bin/python bench/http_cycle.py [--requests 300] [--friends 20]
        [--database-url postgres://…] [--redis-url redis://…] [--json PATH]
"""

import argparse
import contextlib
import http.client
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import backing, common, fanout_app  # noqa: E402

WARM_UP = 20

BARE_APP = """
async def application(scope, receive, send):
    if scope["type"] != "http":
        return
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b'{"ok": true}'})
"""

IN_PROCESS = """
import json, os, statistics, sys, time
import django
django.setup()
from django.test import Client
cookies, videos, n = json.loads(sys.argv[1]), json.loads(sys.argv[2]), int(sys.argv[3])
client = Client(HTTP_HOST="127.0.0.1")
for name, value in cookies.items():
    client.cookies[name] = value
token = cookies["csrftoken"]
def me(k):
    return client.get("/api/me/")
def like(k):
    video = videos[(k // 2) % len(videos)]
    call = client.post if k % 2 == 0 else client.delete
    return call(f"/api/videos/{video}/like/", HTTP_X_CSRFTOKEN=token)
out = {}
for name, request in (("me", me), ("like", like)):
    times = []
    for k in range(20 + n):
        started = time.perf_counter()
        answer = request(k)
        assert answer.status_code == 200, answer.content
        if k >= 20:
            times.append((time.perf_counter() - started) * 1000)
    out[name] = times
print(json.dumps(out))
"""


def timed(port: int, requests: list[tuple[str, str, dict]]) -> list[float]:
    """Send `requests` (method, path, headers) one at a time on one connection; ms each, the warm-up left out."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times = []
    try:
        for k, (method, path, headers) in enumerate(requests):
            started = time.perf_counter()
            connection.request(method, path, headers=headers)
            answer = connection.getresponse()
            answer.read()
            if answer.status != 200:
                raise RuntimeError(f"{method} {path}: {answer.status}")
            if k >= WARM_UP:
                times.append((time.perf_counter() - started) * 1000)
    finally:
        connection.close()
    return times


def summary(times: list[float]) -> dict:
    ordered = sorted(times)
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered), 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 2),
        "mean_ms": round(statistics.fmean(ordered), 2),
    }


def miniapp_requests(app: fanout_app.App, n: int) -> dict[str, list[tuple[str, str, dict]]]:
    cookies = app.liker.cookies
    cookie = f"sessionid={cookies['sessionid']}; csrftoken={cookies['csrftoken']}"
    origin = app.env["SITE_URL"]
    me = [("GET", "/api/me/", {"Cookie": cookie})] * (WARM_UP + n)
    headers = {"Cookie": cookie, "X-CSRFToken": cookies["csrftoken"], "Referer": f"{origin}/", "Origin": origin}
    like = [
        ("POST" if k % 2 == 0 else "DELETE", f"/api/videos/{app.videos[(k // 2) % len(app.videos)]}/like/", headers)
        for k in range(WARM_UP + n)
    ]
    return {"me": me, "like": like}


def run(args) -> dict:
    results = {}
    with contextlib.ExitStack() as stack:
        services = {}
        if args.database_url:
            services["database_url"] = stack.enter_context(backing.fresh_database(args.database_url))
            services["redis_url"] = args.redis_url
        app = stack.enter_context(fanout_app.prepared(args.friends, **services))
        port = int(app.env["SITE_URL"].rsplit(":", 1)[1])  # the origin the session and CSRF cookies belong to
        (app.tmp / "bare_app.py").write_text(BARE_APP)
        bare_env = {**common.inherited_env(), "PYTHONPATH": str(app.tmp)}
        with common.started(fanout_app.daphne_command(port, "bare_app:application"), bare_env, app.tmp / "bare.log",
                            port):  # fmt: skip
            results["bare"] = {"answer": summary(timed(port, [("GET", "/", {})] * (WARM_UP + args.requests)))}
        print(f"  bare ASGI answer: {results['bare']['answer']}", flush=True)
        for name, application, extra in (
            ("stock", "bench.stock_handler_app:application", {"DB_CONN_MAX_AGE": "0"}),
            ("ours", "miniapp.asgi:application", {}),
        ):
            env = {**app.env, **extra}
            log = app.tmp / f"{name}.log"
            with common.started(fanout_app.daphne_command(port, application), env, log, port), \
                    fanout_app.log_on_error(log):  # fmt: skip
                results[name] = {
                    kind: summary(timed(port, requests))
                    for kind, requests in miniapp_requests(app, args.requests).items()
                }
            print(f"  {name}: {results[name]}", flush=True)
        done = subprocess.run(  # noqa: S603  (our own code)
            [common.PYTHON, "-c", IN_PROCESS, json.dumps(dict(app.liker.cookies)), json.dumps(app.videos),
             str(args.requests)],
            cwd=common.ROOT, env=app.env, capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        if done.returncode:
            raise RuntimeError(f"the in-process requests failed:\n{done.stderr[-3000:]}")
        results["in_process"] = {kind: summary(times) for kind, times in json.loads(done.stdout).items()}
        print(f"  in-process (django.test.Client): {results['in_process']}", flush=True)
    return results


HEADERS = ["request", "server", "p50 ms", "p99 ms", "mean ms", "n"]


def rows(results: dict) -> list[list]:
    label = {"me": "GET /api/me/", "like": "like / unlike", "answer": "GET / (bare ASGI)"}
    server = {
        "bare": "Daphne, bare ASGI app",
        "stock": "Daphne, Django's ASGIHandler",
        "ours": "Daphne, SyncRequestHandler",
        "in_process": "in-process test client (no HTTP)",
    }
    out = []
    for kind in ("answer", "me", "like"):
        for name in ("bare", "stock", "ours", "in_process"):
            if figures := results.get(name, {}).get(kind):
                out.append([label[kind], server[name], figures["p50_ms"], figures["p99_ms"], figures["mean_ms"],
                            figures["n"]])  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="timed requests of each kind")
    parser.add_argument("--friends", type=int, default=20, help="the liker's friends (none online)")
    parser.add_argument("--database-url", help="a PostgreSQL server allowed to CREATE DATABASE (fresh one, dropped)")
    parser.add_argument("--redis-url", help="a scratch Redis (with --database-url)")
    common.json_argument(parser)
    args = parser.parse_args()
    common.time_limit(1800)
    where = "PostgreSQL + Redis" if args.database_url else "SQLite + in-memory layer"
    print(f"http_cycle: {args.requests} requests of each kind, {where}", flush=True)
    results = run(args)
    table = rows(results)
    title = f"One request at a time through Daphne, send to answer ({where})"
    print(f"\n{title}\n" + common.table(HEADERS, table))
    gain = {
        kind: round(results["stock"][kind]["p50_ms"] - results["ours"][kind]["p50_ms"], 2) for kind in ("me", "like")
    }
    note = f"p50 saved by SyncRequestHandler over Django's ASGIHandler: {gain['me']} ms (GET /api/me/), " \
           f"{gain['like']} ms (like / unlike)."  # fmt: skip
    print(note)
    common.write_results(args.json, {"where": where, **results, "saved_p50_ms": gain}, tables={title: (HEADERS, table)},
                         notes=[note])  # fmt: skip


if __name__ == "__main__":
    main()
