"""How fast the ranked home feed (`GET /api/videos/`) answers with 1,000 users, 10,000 videos and 100,000 likes.

What: the feed of `engagement.ranking` (videos friends liked in the last 7 days, tier "f"; then the rest by
hot score, tier "h"; what the viewer watched lately at the end, tier "w"), page after page, and how many
SQL queries a page costs, for (a) alice (about 50 friends), (b) erin (a handful of friends) and
(c) a signed-out visitor.

How: a fresh temporary SQLite database (or, with --database-url, an empty scratch PostgreSQL
database) is migrated and seeded with `seed_demo` (alice..erin, 6 real videos), then bulk-created:
1,000 users user0001..user1000 with a random (seeded) friend graph, both directions, 20-60 friends
each, alice with 50 of them as friends and erin with 4; 10,000 published videos (+3% hidden or
removed) reusing the demo files, created over the last 30 days; 100,000 likes, one per user and video,
Zipf-like popularity, each given between the video's upload and now; `hot` from
`hotness.score(created, like times)` and `like_count` (computed before the insert, so the rows go in
once); 2,000 views by alice over the last 3 days (visitor "u<id>", one per video and day).

(a) In-process with django.test.Client (DEBUG off, force_login): the first page again and again,
    then page after page by `next` from the top, through the friends tier and --hot-pages pages into
    the hot tier; median, p95 and max in ms, SQL queries per request (CaptureQueriesContext, min and
    max over all pages), and the time of each query by kind.
(b) Over HTTP through Daphne on 127.0.0.1: alice and erin sign in through the real sign-in
    (/login/?login_hint=...; Daphne runs with OIDC_FETCH_FRIENDS=0 so the sign-in leaves the
    benchmark's friend graph alone), and signed out; first page and the same walk.
Then the plans of alice's friends-tier and hot-tier queries (EXPLAIN QUERY PLAN on SQLite,
EXPLAIN ANALYZE on PostgreSQL), with the time of the bare query.
Goals: median under 30 ms a page, a bounded number of queries a page, whatever the depth (at most 8:
session, user, friends, the tier's one or two queries, one more where two tiers meet, my likes, my
friends' likes).

    .venv/bin/python bench/ranked_feed.py [--requests 200] [--hot-pages 40] [--database-url postgres://...]
                                          [--json PATH]
"""

import argparse
import os
import statistics
import sys
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import app_env, daphne, free_port, json_argument, table, temp_dir, time_limit, write_results  # noqa: E402
from bench.ranked_data import seed  # noqa: E402

GOAL_MS = 30
# session, user, my friends, friends tier (aggregate + its videos) or hot tier, one more where tiers
# meet, liked by me, friend likers
MAX_QUERIES = 8
FEED = "/api/videos/"
VIEWERS = {"alice": "many friends", "erin": "few friends", "anonymous": "signed out"}
MAX_PAGES = 1_500  # a walk stops here even if the hot tier was not reached


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def kind_of(sql: str) -> str:
    """Which query of a feed request this is, from its SQL."""
    if '"django_session"' in sql:
        return "session"
    if sql.startswith('SELECT "accounts_user"'):
        return "user"
    if sql.startswith('SELECT "accounts_friendship"'):
        return "my friends"
    if sql.startswith('SELECT "videos_video"'):
        return "hot tier" if 'ORDER BY "videos_video"."hot" DESC' in sql else "friends tier videos"
    if sql.startswith('SELECT "engagement_like"."video_id"') and "COUNT(" in sql:
        return "friends tier"
    if sql.startswith('SELECT "engagement_like"'):
        return "friend likers" if 'JOIN "accounts_user"' in sql else "liked by me"
    return "other"


def client_getter(viewer: str):
    """get(url) -> one measured request of the in-process test client as `viewer`."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from miniapp.accounts.models import User

    client = Client()
    if viewer != "anonymous":
        client.force_login(User.objects.get(username=viewer))

    def get(url: str) -> dict:
        executed = []

        def timed(execute, sql, params, many, context):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                executed.append((kind_of(sql), time.perf_counter() - started, sql, params))

        with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(timed):
            started = time.perf_counter()
            response = client.get(url)
            seconds = time.perf_counter() - started
        assert response.status_code == 200, (response.status_code, response.content[:300])
        kinds = [kind for kind, *_ in executed]
        tiers = "".join(kind[0] for kind in kinds if kind.endswith(" tier"))
        return {
            "seconds": seconds,
            "queries": len(captured.captured_queries),
            "sql": [q["sql"] for q in captured.captured_queries],
            "executed": executed,
            "tiers": tiers,
            "data": response.json(),
        }

    return get


def http_getter(url: str, session):
    def get(path: str) -> dict:
        started = time.perf_counter()
        response = session.get(path if path.startswith("http") else url + path, timeout=30)
        seconds = time.perf_counter() - started
        assert response.status_code == 200, (response.status_code, response.text[:300])
        cursor = parse_qs(urlsplit(path).query).get("cursor")
        return {"seconds": seconds, "tiers": start_tier(cursor[0]) if cursor else "", "data": response.json()}

    return get


def start_tier(cursor: str) -> str:
    from miniapp.engagement.ranking import Cursor

    return Cursor.decode(cursor).tier


def repeat(get, count: int) -> list[dict]:
    return [get(FEED) for _ in range(count)]


def walk(get, hot_pages: int) -> list[dict]:
    """Page after page from the top until `hot_pages` pages came from the hot tier alone (or the feed ends)."""
    pages, url, in_hot = [], FEED, 0
    while url and in_hot < hot_pages and len(pages) < MAX_PAGES:
        page = get(url)
        pages.append(page)
        in_hot += page["tiers"] == "h"
        url = page["data"]["next"]
    return pages


def stats(label: str, pages: list[dict]) -> dict:
    times = sorted(ms(p["seconds"]) for p in pages)
    row = {"case": label, "requests": len(times), "median_ms": round(statistics.median(times), 2)}
    row.update(p95_ms=times[min(len(times) - 1, int(len(times) * 0.95))], max_ms=times[-1])
    if "queries" in pages[0]:
        row["queries_min"] = min(p["queries"] for p in pages)
        row["queries_max"] = max(p["queries"] for p in pages)
    return row


def tier_rows(label: str, pages: list[dict]) -> list[dict]:
    """The walk's pages by the tier(s) they came from: f, f+h (the crossing), h."""
    groups = defaultdict(list)
    for page in pages:
        groups[page["tiers"]].append(page)
    names = {"f": "friends tier", "fh": "crossing f→h", "h": "hot tier", "": "first page"}
    return [stats(f"{label}, pages in {names.get(t, t)}", group) for t, group in groups.items()]


def check_walk(pages: list[dict], seen: set[int]) -> dict:
    """What the walk showed: no video twice, no recently watched video before tier w, friends tier cards."""
    ids, friends_tier_cards, without_friend = [], 0, 0
    for page in pages:
        results = page["data"]["results"]
        ids += [card["id"] for card in results]
        if page["tiers"] == "f":
            friends_tier_cards += len(results)
            without_friend += sum(card["friends_liked_count"] == 0 for card in results)
    return {
        "pages": len(pages),
        "cards": len(ids),
        "repeated": len(ids) - len(set(ids)),
        "watched_shown": len(set(ids) & seen),
        "friends_tier_pages": sum(p["tiers"] == "f" for p in pages),
        "friends_tier_cards": friends_tier_cards,
        "friends_tier_without_friend_like": without_friend,
        "liked_by_me": sum(card["liked_by_me"] for p in pages for card in p["data"]["results"]),
    }


def in_process(requests_: int, hot_pages: int) -> tuple[list[dict], list[dict], dict, dict]:
    from django.conf import settings
    from django.utils import timezone

    from miniapp.engagement.models import View

    since = timezone.localdate() - timedelta(days=settings.FEED_SEEN_DAYS)
    rows, per_query, checks, walks = [], [], {}, {}
    for viewer, what in VIEWERS.items():
        get = client_getter(viewer)
        for _ in range(10):  # warm up
            get(FEED)
        label = f"in-process, {viewer} ({what})"
        first = repeat(get, requests_)
        rows.append(stats(f"{label}, first page", first))
        pages = walk(get, hot_pages)
        rows.append(stats(f"{label}, pages 1..{len(pages)} by next", pages))
        rows += tier_rows(label, pages)
        everything = first + pages
        seen = set(View.objects.filter(viewer__username=viewer, day__gte=since).values_list("video_id", flat=True))
        checks[viewer] = check_walk(pages, seen)
        walks[viewer] = pages
        by_kind = defaultdict(list)
        for page in everything:
            for kind, seconds, *_ in page["executed"]:
                by_kind[kind].append(ms(seconds))
        for kind, times in by_kind.items():
            times.sort()
            per_query.append(
                {
                    "viewer": viewer,
                    "query": kind,
                    "runs": len(times),
                    "median_ms": round(statistics.median(times), 2),
                    "p95_ms": times[min(len(times) - 1, int(len(times) * 0.95))],
                    "max_ms": times[-1],
                }
            )
    return rows, per_query, checks, walks


def over_http(url: str, requests_: int, hot_pages: int) -> list[dict]:
    import requests

    rows = []
    for viewer, what in VIEWERS.items():
        with requests.Session() as session:
            if viewer != "anonymous":
                me = session.get(f"{url}/login/?login_hint={viewer}&next=/api/me/", timeout=30)
                assert me.ok and me.json().get("username") == viewer, (me.status_code, me.url, me.text[:300])
            get = http_getter(url, session)
            for _ in range(10):  # warm up
                get(FEED)
            label = f"HTTP (Daphne), {viewer} ({what})"
            rows.append(stats(f"{label}, first page", repeat(get, requests_)))
            pages = walk(get, hot_pages)
            rows.append(stats(f"{label}, pages 1..{len(pages)} by next", pages))
    return rows


def query_plans(walks: dict, explain: str) -> dict[str, dict]:
    """The plans of alice's friends-tier query (first page) and hot-tier query (first page wholly in tier h)."""
    from django.db import connection

    wanted = {"friends tier": None, "hot tier": None}
    for page in walks["alice"]:
        if page["tiers"] not in ("f", "h"):
            continue
        for (kind, _, sql, params), captured in zip(page["executed"], page["sql"], strict=True):
            if kind in wanted and wanted[kind] is None:
                wanted[kind] = (sql, params, captured)
    plans = {}
    for kind, found in wanted.items():
        if found is None:
            continue
        sql, params, captured = found
        with connection.cursor() as cursor:
            cursor.execute(f"{explain} {sql}", params)
            plan = [" | ".join(str(c) for c in row) for row in cursor.fetchall()]
            times = []
            for _ in range(20):
                started = time.perf_counter()
                cursor.execute(sql, params)
                cursor.fetchall()
                times.append(time.perf_counter() - started)
        plans[kind] = {"plan": plan, "bare_query_median_ms": ms(statistics.median(times)), "sql": captured}
    return plans


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="first-page requests per viewer")
    parser.add_argument("--hot-pages", type=int, default=40, help="pages to walk into the hot tier")
    parser.add_argument("--users", type=int, default=1_000)
    parser.add_argument("--videos", type=int, default=10_000, help="published videos (+3%% hidden or removed)")
    parser.add_argument("--likes", type=int, default=100_000)
    parser.add_argument("--database-url", help="an EMPTY scratch PostgreSQL database instead of a temporary SQLite")
    json_argument(parser)
    args = parser.parse_args()
    time_limit(900)
    started = time.monotonic()
    with temp_dir() as tmp:
        port = free_port()
        env = app_env(tmp, site_url=f"http://127.0.0.1:{port}", database_url=args.database_url)
        env["OIDC_FETCH_FRIENDS"] = "0"  # a sign-in must not replace alice's and erin's benchmark friends
        (tmp / "static").mkdir()  # STATIC_ROOT: nothing to collect for an API, but WhiteNoise wants the folder
        os.environ.clear()
        os.environ.update(env)
        import django
        from django.db import connection

        django.setup()
        from miniapp.accounts.models import Friendship

        explain = "EXPLAIN QUERY PLAN" if connection.vendor == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS)"
        if args.database_url and {"videos_video", "accounts_user"} & set(connection.introspection.table_names()):
            raise SystemExit("--database-url: that database already holds miniapp's tables; give an empty one")
        data = seed(args.users, args.videos, args.likes)
        print(f"Seeded on {connection.vendor} in {time.monotonic() - started:.1f} s: {data}", flush=True)
        rows, per_query, checks, walks = in_process(args.requests, args.hot_pages)
        plans = query_plans(walks, explain)
        print(f"In-process done at {time.monotonic() - started:.1f} s", flush=True)
        friends_before = {v: Friendship.objects.filter(user__username=v).count() for v in ("alice", "erin")}
        with daphne(env, port, tmp / "daphne.log") as url:
            http_rows = over_http(url, args.requests, args.hot_pages)
        friends_after = {v: Friendship.objects.filter(user__username=v).count() for v in ("alice", "erin")}
        assert friends_after == friends_before, ("the sign-in changed the friend graph", friends_before, friends_after)
        connection.close()

    vendor = connection.vendor
    title = (
        f"GET {FEED} ranked, {vendor}: {data['users']} users, {data['friendships']} friendship rows, "
        f"{data['videos']} videos ({data['published']} published), {data['likes']} likes; times in ms"
    )
    print(f"\n{title}")
    print(
        f"Seeding: migrate + seed_demo {data['migrate_and_seed_demo_s']} s, bulk data {data['bulk_s']} s; "
        f"alice: {data['alice_friends']} friends, {data['alice_friend_likes_7d']} friend likes in 7 days, "
        f"{data['alice_views']} views; erin: {data['erin_friends']} friends"
    )
    headers = ["case", "requests", "median_ms", "p95_ms", "max_ms", "queries_min", "queries_max"]
    timings = [[row.get(h, "-") for h in headers] for row in rows + http_rows]
    print(table(headers, timings))
    print("\nTime of each query (in-process, first pages and the walk)")
    qheaders = ["viewer", "query", "runs", "median_ms", "p95_ms", "max_ms"]
    print(table(qheaders, [[row[h] for h in qheaders] for row in per_query]))
    print("\nWhat the walks showed (in-process)")
    cheaders = ["viewer", *next(iter(checks.values())).keys()]
    print(table(cheaders, [[viewer, *figures.values()] for viewer, figures in checks.items()]))
    for kind, plan in plans.items():  # the SQL itself is in the JSON
        print(f"\n{explain} of alice's {kind} query (bare query {plan['bare_query_median_ms']} ms):")
        print("\n".join("  " + line for line in plan["plan"]))

    measured = rows + http_rows
    slow = [row["case"] for row in measured if row["median_ms"] >= GOAL_MS]
    queries = {}
    for viewer in VIEWERS:
        mine = [row for row in rows if row["case"].startswith(f"in-process, {viewer} ")]
        queries[viewer] = (min(row["queries_min"] for row in mine), max(row["queries_max"] for row in mine))
    unbounded = [f"{v} ({lo}..{hi})" for v, (lo, hi) in queries.items() if hi > MAX_QUERIES]
    repeated = [v for v, c in checks.items() if c["repeated"] or c["watched_shown"]]
    print(
        "\nQueries a request, over the first pages and every page of the walk: "
        + ", ".join(f"{v} {lo}..{hi}" for v, (lo, hi) in queries.items())
    )
    print(f"Goal median < {GOAL_MS} ms a page: {'PASS' if not slow else 'FAIL: ' + '; '.join(slow)}")
    print(
        f"Goal bounded queries (at most {MAX_QUERIES} a page, however deep): "
        + ("PASS" if not unbounded else "FAIL: " + ", ".join(unbounded))
    )
    if repeated:
        print(f"Check FAILED: a video shown twice or a watched video shown early for {', '.join(repeated)}")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"Total run time {time.monotonic() - started:.1f} s; load average at the end {load} on {os.cpu_count()} CPUs")
    write_results(
        args.json,
        {
            "data": data,
            "vendor": vendor,
            "timings": measured,
            "per_query": per_query,
            "checks": checks,
            "queries_per_request": queries,
            "plans": plans,
            "goal_ms": GOAL_MS,
            "pass": not slow and not unbounded and not repeated,
        },
        tables={title: (headers, timings)},
    )


if __name__ == "__main__":
    main()
