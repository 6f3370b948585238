"""What one like costs the server, in-process: `POST` and `DELETE /api/videos/<id>/like/` by a
user with N friends, in ms and SQL queries, and (with --profile) where the time goes.

How: a fresh temporary SQLite database (or, with --database-url, an empty scratch PostgreSQL
database; with --redis-url, the Redis channel layer and cache) is migrated and seeded with
`seed_demo`, then a user with N friends (app users, friends both ways) and 200 videos. A
django.test.Client signed in as that user (a real session row) likes a video, takes the like
back, and so on through the videos: every like inserts the like and its activity entry, updates
the counter and pushes the event once the transaction commits. DEBUG is off, as in production.
No socket listens: this is the request's own cost, before the fan-out (bench/realtime.py
measures the whole path).

    .venv/bin/python bench/like_request.py [--likes 500] [--friends 1000] [--profile]
        [--database-url postgres://...] [--redis-url redis://...] [--json PATH]
"""

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import app_env, json_argument, table, temp_dir, time_limit, write_results  # noqa: E402

VIDEOS = 200
WARM_UP = 20
SORT = os.environ.get("PROFILE_SORT", "cumulative")


def seed(friends: int) -> dict:
    from django.core.management import call_command

    from miniapp.accounts.models import Friendship, User
    from miniapp.videos.models import Video

    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0, stdout=io.StringIO())
    liker = User.objects.create(username="liker", display_name="点赞的人")
    others = User.objects.bulk_create(User(username=f"friend{i:04d}") for i in range(friends))
    Friendship.objects.bulk_create(
        [Friendship(user=liker, friend=other) for other in others]
        + [Friendship(user=other, friend=liker) for other in others]
    )
    demo = list(Video.objects.order_by("pk"))
    same = ("author", "description", "duration", "size", "width", "height", "file", "poster", "hot")
    Video.objects.bulk_create(
        Video(title=f"like bench #{i}", **{name: getattr(demo[i % len(demo)], name) for name in same})
        for i in range(VIDEOS)
    )
    return {"liker_friends": Friendship.objects.filter(user=liker).count(), "videos": Video.objects.count()}


class Queries:
    """An execute wrapper: each statement's SQL and the time spent in the database call (the round trip
    and the database's own work; not the ORM's building of the query). Lighter than CaptureQueriesContext,
    which also formats every statement."""

    def __init__(self):
        self.sql: list[str] = []
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.sql.append(sql)


def measure(count: int, profiler: cProfile.Profile | None) -> tuple[list[dict], dict[str, list[str]]]:
    from django.db import connection
    from django.test import Client

    from miniapp.accounts.models import User
    from miniapp.videos.models import Video

    client = Client()
    client.force_login(User.objects.get(username="liker"))
    videos = list(Video.objects.filter(status=Video.Status.PUBLISHED).values_list("pk", flat=True))
    kept: dict[str, list[tuple[float, float, int]]] = {"like": [], "unlike": []}  # (seconds, in database, queries)
    sql: dict[str, list[str]] = {}

    def send(kind: str, video_id: int, keep: bool) -> None:
        send_request = client.post if kind == "like" else client.delete
        queries = Queries()
        with connection.execute_wrapper(queries):
            started = time.perf_counter()
            response = send_request(f"/api/videos/{video_id}/like/")
            seconds = time.perf_counter() - started
        assert response.status_code == 200, (response.status_code, response.content[:300])
        assert response.json()["liked"] is (kind == "like"), response.json()
        sql[kind] = queries.sql
        if keep:
            kept[kind].append((seconds, queries.seconds, len(queries.sql)))

    for i in range(WARM_UP + count):
        video_id = videos[i % len(videos)]
        keep = i >= WARM_UP
        if keep and profiler:
            profiler.enable()
        send("like", video_id, keep)
        send("unlike", video_id, keep)
        if keep and profiler:
            profiler.disable()
    rows = []
    for kind, runs in kept.items():
        ms = sorted(seconds * 1000 for seconds, _, _ in runs)
        counts = [n for _, _, n in runs]
        rows.append(
            {
                "request": kind,
                "requests": len(ms),
                "median_ms": round(statistics.median(ms), 2),
                "p95_ms": round(ms[int(len(ms) * 0.95)], 2),
                "max_ms": round(ms[-1], 2),
                "in_database_median_ms": round(statistics.median(db * 1000 for _, db, _ in runs), 2),
                "queries": f"{min(counts)}-{max(counts)}" if min(counts) != max(counts) else counts[0],
            }
        )
    connection.close()
    return rows, sql


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--likes", type=int, default=500, help="likes (and as many unlikes) measured")
    parser.add_argument("--friends", type=int, default=1000, help="the liker's friends")
    parser.add_argument("--database-url", help="an EMPTY scratch PostgreSQL database instead of a temporary SQLite")
    parser.add_argument("--redis-url", help="Redis for the channel layer and cache (its database is flushed)")
    parser.add_argument("--profile", action="store_true", help="print the functions that took the most time")
    json_argument(parser)
    args = parser.parse_args()
    time_limit(600)
    started = time.monotonic()
    with temp_dir() as tmp:
        env = app_env(tmp, site_url="http://127.0.0.1:8000", database_url=args.database_url)
        env["LIKE_RATE"] = "100000/minute"
        (tmp / "static").mkdir()  # STATIC_ROOT: nothing to collect for an API, but WhiteNoise wants the folder
        if args.redis_url:
            env["REDIS_URL"] = args.redis_url
        os.environ.clear()
        os.environ.update(env)
        import django
        from asgiref.sync import sync_to_async
        from django.core.cache import cache
        from django.db import connection

        django.setup()
        if args.database_url and "videos_video" in connection.introspection.table_names():
            raise SystemExit("--database-url: that database already holds miniapp's tables; give an empty one")
        cache.clear()
        data = seed(args.friends)
        print(f"Seeded {data} on {connection.vendor} in {time.monotonic() - started:.1f} s")
        profiler = cProfile.Profile() if args.profile else None
        connection.close()
        # As under Daphne: the view runs in a thread beside a running event loop, so the push's
        # async_to_sync runs on that loop and reuses its Redis connections.
        rows, sql = asyncio.run(sync_to_async(measure)(args.likes, profiler))

    layer = "Redis" if args.redis_url else "in-memory"
    title = f"One like by a user with {data['liker_friends']} friends, in-process ({connection.vendor}, {layer} layer)"
    print(f"\n{title}")
    headers = ["request", "requests", "median_ms", "p95_ms", "max_ms", "in_database_median_ms", "queries"]
    timings = [[row[h] for h in headers] for row in rows]
    print(table(headers, timings))
    for kind, statements in sql.items():
        print(f"\nThe queries of the last {kind}:")
        print("\n".join(f"  {i}. {statement[:160]}" for i, statement in enumerate(statements, 1)))
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(SORT).print_stats(60)
        print("\nWhere the time went (likes and unlikes together), by cumulative time:")
        print(out.getvalue())
    print(f"Total run time {time.monotonic() - started:.1f} s")
    write_results(
        args.json,
        {"data": data, "vendor": connection.vendor, "layer": layer, "timings": rows, "sql": sql},
        tables={title: (headers, timings)},
    )


if __name__ == "__main__":
    main()
