"""How fast `GET /api/videos/` (the feed) answers with 10,000 videos, and how many SQL queries a page costs.

How: a fresh temporary SQLite database (or, with --database-url, an empty scratch PostgreSQL
database) is migrated and seeded with `seed_demo` (users alice..erin, 6 real videos), then 10,000
more Video rows (reusing the demo files, created over 180 days, a few hidden or removed) and 20,000
likes spread over the five users are bulk-created, so `liked_by_me` and `friends_who_liked` do real
work (alice's friends bob, carol and dave like about 40% of the videos each).

(a) In-process with django.test.Client (DEBUG off), as alice (force_login) and signed out:
    the first page again and again, then the following pages by the `next` cursor; median, p95 and
    max in ms and the SQL queries per request (CaptureQueriesContext).
(b) Over HTTP through Daphne on 127.0.0.1, with a requests.Session signed in through the real
    sign-in (/login/?login_hint=alice), walking the pages; and signed out.
Then the query plan of the feed query and of the friends' likes query (EXPLAIN QUERY PLAN on SQLite).
Goals: median under 20 ms, the same number of queries on every page.

    .venv/bin/python bench/feed_api.py [--requests 300] [--database-url postgres://...] [--json PATH]
"""

import argparse
import io
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import app_env, daphne, free_port, table, temp_dir, time_limit, write_json  # noqa: E402

GOAL_MS = 20
FEED = "/api/videos/"


def client_for(viewer: str):
    """A test client signed in as `viewer` (force_login), or signed out for "anonymous"."""
    from django.test import Client

    from miniapp.accounts.models import User

    client = Client()
    if viewer != "anonymous":
        client.force_login(User.objects.get(username=viewer))
    return client


def seed(videos: int, likes: int) -> dict:
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.utils import timezone

    from miniapp.accounts.models import User
    from miniapp.engagement.models import Like
    from miniapp.videos.models import Video

    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0, stdout=io.StringIO())
    rng = random.Random(42)
    users = list(User.objects.filter(username__in=["alice", "bob", "carol", "dave", "erin"]).order_by("pk"))
    demo = list(Video.objects.order_by("pk"))
    now = timezone.now()
    statuses = [Video.Status.PUBLISHED] * 96 + [Video.Status.HIDDEN] * 3 + [Video.Status.REMOVED]
    same = ("description", "duration", "size", "width", "height")
    rows = [
        Video(
            author=users[i % len(users)],
            title=f"{base.title} #{i}",
            file=base.file.name,
            poster=base.poster.name,
            status=rng.choice(statuses),
            created=now - timedelta(seconds=rng.uniform(60, 180 * 86400)),
            **{name: getattr(base, name) for name in same},
        )
        for i, base in ((i, demo[i % len(demo)]) for i in range(videos))
    ]
    Video.objects.bulk_create(rows, batch_size=1000)
    all_videos = list(Video.objects.values_list("pk", "created"))
    existing = set(Like.objects.values_list("user_id", "video_id"))  # seed_demo's own likes
    pairs = rng.sample(range(len(all_videos) * len(users)), min(likes, len(all_videos) * len(users)))
    like_rows = []
    for pair in pairs:
        user, (video_id, created) = users[pair % len(users)], all_videos[pair // len(users)]
        if (user.pk, video_id) not in existing:
            like_rows.append(Like(user=user, video_id=video_id, created=created + timedelta(hours=1)))
    Like.objects.bulk_create(like_rows, batch_size=1000)
    counts = Like.objects.values_list("video_id").annotate(n=Count("id"))
    Video.objects.bulk_update([Video(pk=pk, like_count=n) for pk, n in counts], ["like_count"], batch_size=500)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # as autovacuum soon would after a bulk load; the planner needs the row counts
    return {"videos": Video.objects.count(), "likes": Like.objects.count(), "users": len(users)}


def stats(label: str, times: list[float], queries: list[int] | None = None) -> dict:
    ms = sorted(round(t * 1000, 2) for t in times)
    row = {"case": label, "requests": len(ms), "median_ms": round(statistics.median(ms), 2)}
    row.update(p95_ms=ms[min(len(ms) - 1, int(len(ms) * 0.95))], max_ms=ms[-1])
    if queries is not None:
        row["queries_min"], row["queries_max"] = min(queries), max(queries)
    return row


def walk(get, count: int, *, follow: bool) -> tuple[list[float], list[int], list[dict]]:
    """`count` feed requests: the first page each time, or page after page by `next` (from the top at the end)."""
    times, queries, pages = [], [], []
    url = FEED
    for _ in range(count):
        seconds, n_queries, data = get(url)
        times.append(seconds)
        queries.append(n_queries)
        pages.append(data)
        if follow:
            url = data["next"] or FEED
    return times, queries, pages


def in_process(count: int) -> tuple[list[dict], dict]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    rows, cards = [], {}
    for viewer in ("alice", "anonymous"):
        client = client_for(viewer)

        def get(url, client=client):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(url)
                seconds = time.perf_counter() - started
            assert response.status_code == 200, (response.status_code, response.content[:300])
            return seconds, len(captured.captured_queries), response.json()

        walk(get, 10, follow=True)  # warm up
        for label, follow in (("first page", False), ("following pages", True)):
            times, queries, pages = walk(get, count, follow=follow)
            rows.append(stats(f"in-process, {viewer}, {label}", times, queries))
            results = [card for page in pages for card in page["results"]]
            cards[f"{viewer}, {label}"] = {
                "cards": len(results),
                "liked_by_me": sum(card["liked_by_me"] for card in results),
                "with_friend_likes": sum(card["friends_liked_count"] > 0 for card in results),
                "deepest_page": len(pages) if follow else 1,
            }
    return rows, cards


def over_http(url: str, count: int) -> list[dict]:
    import requests

    rows = []
    for viewer in ("alice", "anonymous"):
        with requests.Session() as session:
            if viewer != "anonymous":
                me = session.get(f"{url}/login/?login_hint={viewer}&next=/api/me/", timeout=20)
                assert me.ok and me.json().get("username") == viewer, (me.status_code, me.url, me.text[:300])

            def get(path, session=session):
                started = time.perf_counter()
                response = session.get(path if path.startswith("http") else url + path, timeout=20)
                seconds = time.perf_counter() - started
                assert response.status_code == 200, (response.status_code, response.text[:300])
                return seconds, 0, response.json()

            walk(get, 10, follow=True)  # warm up
            times, _, _ = walk(get, count, follow=True)
            rows.append(stats(f"HTTP (Daphne), {viewer}, first + following pages", times))
    return rows


def query_plans(explain: str) -> dict[str, dict]:
    """The feed query and the friends' likes query of alice's second page, as the database plans them."""
    from django.db import connection

    client = client_for("alice")
    second = client.get(FEED).json()["next"]
    executed = []

    def keep(execute, sql, params, many, context):
        executed.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(keep):
        client.get(second)
    plans = {}
    for sql, params in executed:
        first_column_table = sql.removeprefix("SELECT ").split(".", 1)[0].strip('"')
        name = {"videos_video": "feed", "engagement_like": "friend likes"}.get(first_column_table)
        if name and name not in plans:
            with connection.cursor() as cursor:
                cursor.execute(f"{explain} {sql}", params)
                plans[name] = {"plan": [" | ".join(str(c) for c in row) for row in cursor.fetchall()]}
            plans[name]["sql"] = sql % tuple(p if isinstance(p, int | float) else f"'{p}'" for p in params)
    return plans


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="requests per measured case")
    parser.add_argument("--videos", type=int, default=10_000)
    parser.add_argument("--likes", type=int, default=20_000)
    parser.add_argument("--database-url", help="an EMPTY scratch PostgreSQL database instead of a temporary SQLite")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON to PATH")
    args = parser.parse_args()
    time_limit(175)
    started = time.monotonic()
    with temp_dir() as tmp:
        port = free_port()
        env = app_env(tmp, site_url=f"http://127.0.0.1:{port}", database_url=args.database_url)
        (tmp / "static").mkdir()  # STATIC_ROOT: nothing to collect for an API, but WhiteNoise wants the folder
        os.environ.clear()
        os.environ.update(env)
        import django
        from django.db import connection

        django.setup()
        explain = "EXPLAIN QUERY PLAN" if connection.vendor == "sqlite" else "EXPLAIN"
        if args.database_url and {"videos_video", "accounts_user"} & set(connection.introspection.table_names()):
            raise SystemExit("--database-url: that database already holds miniapp's tables; give an empty one")
        data = seed(args.videos, args.likes)
        print(f"Seeded {data} on {connection.vendor} in {time.monotonic() - started:.1f} s")
        rows, cards = in_process(args.requests)
        with daphne(env, port, tmp / "daphne.log") as url:
            rows += over_http(url, args.requests)
        plans = query_plans(explain)
        connection.close()

    print(f"\nGET {FEED} with {data['videos']} videos and {data['likes']} likes ({connection.vendor}); times in ms")
    headers = ["case", "requests", "median_ms", "p95_ms", "max_ms", "queries_min", "queries_max"]
    print(table(headers, [[row.get(h, "-") for h in headers] for row in rows]))
    print("\nWhat the measured pages held (so the annotations did real work)")
    print(table(["pages", "cards", "liked_by_me", "with_friend_likes", "deepest_page"],
                [[name, *figures.values()] for name, figures in cards.items()]))  # fmt: skip
    for name, plan in plans.items():  # the SQL itself is in the JSON
        print(f"\n{explain} of the {name} query (alice, second page):")
        print("\n".join("  " + line for line in plan["plan"]))
    slow = [row["case"] for row in rows if row["median_ms"] >= GOAL_MS]
    varying = [row["case"] for row in rows if row.get("queries_min") != row.get("queries_max")]
    print(f"\nGoal median < {GOAL_MS} ms: {'met' if not slow else 'MISSED by ' + ', '.join(slow)}")
    print(f"Constant queries per page: {'yes' if not varying else 'NO for ' + ', '.join(varying)}")
    print(f"Total run time {time.monotonic() - started:.1f} s")
    write_json(args.json, {"data": data, "vendor": connection.vendor, "timings": rows, "cards": cards, "plans": plans})


if __name__ == "__main__":
    main()
