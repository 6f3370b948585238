"""Unread counts of a user in 50 groups of 10,000 posts each: `GET /api/groups/`, in-process and over HTTP.

One database per run (bench/groups.py runs this once on SQLite and once on PostgreSQL, each in a process
of its own, since Django is set up once a process): a fresh temporary SQLite database, or with
--database-url an EMPTY scratch PostgreSQL database. Migrated, then bulk-inserted (bulk_create, not the
API): the reader and a pool of --pool other users; --groups groups of --members members (the reader in
every one); --posts posts in each group, the groups' posts interleaved in id order as they would be
written, each by a member, of one of 20 videos; one video (1 post in 90) is hidden at 90% of the log, where its
posts are withdrawn (marked retracted, with their `retract` entries, as the hide does); --other
friends' log entries (likes, no group) interleaved with them; a share link for the newest 100 posts of
each group. The reader's read positions: a fifth of the groups never read (all unread), a fifth read to
the middle, a fifth 30 posts behind, two fifths read to the end. On PostgreSQL the database is VACUUM
ANALYZEd after the insert, as autovacuum does after a bulk of inserts (statistics and the visibility
map); SQLite is left without statistics, as the app leaves it.

GROUPS_SYNC_SECONDS is set to a day and the reader's `groups_synced` to now, so `groups_refresh` finds
its slot fresh (one UPDATE that matches no row) and never reads the provider: the figure is the
counts' own.

Measured:
- in-process (django.test.Client, DEBUG off): GET /api/groups/ --requests times (median, p99, max, the
  time in the database, queries a request); `unread_total` (the tab bar's badge, on every page) alone;
- over HTTP (Daphne on 127.0.0.1, the reader's session cookie): GET /api/groups/ --requests times;
- the plan of every SELECT the request runs (EXPLAIN QUERY PLAN on SQLite, EXPLAIN (ANALYZE, BUFFERS)
  on PostgreSQL), captured with connection.execute_wrapper, and each bare query's median time;
- one share into a group of --members members in-process: its statements (no row a member).

    .venv/bin/python bench/groups_unread.py --out PATH [--database-url postgres://...] [--requests 200]
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import statistics
import sys
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import app_env, daphne, free_port, temp_dir, time_limit  # noqa: E402
from bench.fanout import percentile  # noqa: E402

VIDEOS = 20
NOTE = "这是我们村的老王"
WARM_UP = 10
BATCH = 5000
SHARED_TAIL = 100  # the newest posts of each group that get a share link, as every real post has


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def seed(groups: int, members: int, posts: int, other: int, pool: int) -> dict:
    """The data the module's docstring describes; returns what was made and the reader's id."""
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from miniapp.accounts.models import Membership, User
    from miniapp.engagement.models import Activity

    started = time.monotonic()
    call_command("migrate", verbosity=0)
    migrated = time.monotonic() - started
    with transaction.atomic():
        reader = _insert(groups, members, posts, other, pool)
    User.objects.filter(pk=reader.pk).update(groups_synced=timezone.now())
    visible = ""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # What autovacuum does after a bulk of inserts (PostgreSQL 13+): statistics, and the visibility
            # map that lets an index-only scan skip the table.
            cursor.execute("VACUUM ANALYZE")
            cursor.execute("SELECT relallvisible, relpages FROM pg_class WHERE relname = 'engagement_activity'")
            pages = cursor.fetchone()
            visible = f"VACUUM ANALYZE: {pages[0]} of the log's {pages[1]} pages all-visible"
    group_posts = Activity.objects.filter(group__isnull=False, verb=Activity.Verb.SHARE)
    return {
        "vendor": connection.vendor,
        "reader_id": reader.pk,
        "groups": groups,
        "members_per_group": members,
        "posts_per_group": posts,
        "group_posts": group_posts.count(),
        "log_entries": Activity.objects.count(),
        "memberships": Membership.objects.count(),
        "users": User.objects.count(),
        "migrate_s": round(migrated, 1),
        "insert_s": round(time.monotonic() - started - migrated, 1),
        "visible_pages": visible or "no ANALYZE (as the app leaves SQLite)",
    }


def _insert(groups: int, members: int, posts: int, other: int, pool: int):
    from django.core.management.color import no_style
    from django.db import connection
    from django.db.models import Max
    from django.utils import timezone

    from miniapp.accounts.models import Group, Membership, User
    from miniapp.engagement.models import Activity, ShareLink
    from miniapp.videos.models import Video

    rng = random.Random(16)
    reader = User.objects.create(username="reader", display_name="读者")
    others = User.objects.bulk_create(User(username=f"member{i:05d}") for i in range(pool))
    author = others[0]
    base = timezone.now() - timedelta(days=30)
    videos = Video.objects.bulk_create(
        Video(author=author, title=f"clip {i}", file=f"videos/g{i}/video.mp4", poster=f"videos/g{i}/poster.jpg",
              duration=5.0, size=1000, width=360, height=640, hot=0.0, created=base,
              status=Video.Status.HIDDEN if i == 0 else Video.Status.PUBLISHED)
        for i in range(VIDEOS)
    )  # fmt: skip
    made = Group.objects.bulk_create(
        Group(provider="wx", gid=f"bench-{i}", name=f"群 {i}", member_count=members) for i in range(groups)
    )
    member_ids = {group.pk: [reader.pk, *(u.pk for u in rng.sample(others, members - 1))] for group in made}
    Membership.objects.bulk_create(
        [Membership(group_id=gid, user_id=uid) for gid, uids in member_ids.items() for uid in uids], batch_size=BATCH
    )
    # Share links for each group's newest posts, made first so that the posts can point at them.
    tail = {
        group.pk: ShareLink.objects.bulk_create(
            ShareLink(sharer_id=author.pk, video=videos[1 + k % (VIDEOS - 1)], note="看看") for k in range(SHARED_TAIL)
        )
        for group in made
    }
    # The log in id order (ids given here, so that a retraction can name its entry): each round one post
    # in every group, friends' likes among them. Video 0 is hidden at 90% of the log: its posts until
    # then (1 in 90) are withdrawn there, all at once, as the hide does (`activities_retract`).
    friends_every = max(1, round(posts * groups / other)) if other else 0
    hide_at, hidden = posts * 9 // 10, []
    rows, next_id = [], 1

    def add(**fields) -> Activity:
        nonlocal rows, next_id
        entry = Activity(id=next_id, created=base + timedelta(seconds=next_id), **fields)
        rows.append(entry)
        next_id += 1
        if len(rows) >= BATCH:
            Activity.objects.bulk_create(rows)
            rows = []
        return entry

    for i in range(posts):
        if i == hide_at:
            for post in hidden:
                add(actor_id=post.actor_id, verb=Activity.Verb.RETRACT, video=post.video, target_id=post.pk,
                    group_id=post.group_id)  # fmt: skip
        for group in made:
            share = tail[group.pk][i - (posts - SHARED_TAIL)] if i >= posts - SHARED_TAIL else None
            video = (
                share.video if share else rng.choice(videos[1:]) if i >= hide_at or rng.random() > 1 / 90 else videos[0]
            )
            post = add(actor_id=rng.choice(member_ids[group.pk]), verb=Activity.Verb.SHARE, video=video,
                       group_id=group.pk, note=NOTE, share=share, retracted=video == videos[0])  # fmt: skip
            if post.retracted:
                hidden.append(post)
            if friends_every and next_id % friends_every == 0:
                add(actor=rng.choice(others), verb=Activity.Verb.LIKE, video=rng.choice(videos[1:]))
    Activity.objects.bulk_create(rows)
    with connection.cursor() as cursor:  # PostgreSQL: the id sequence goes on after the given ids
        for sql in connection.ops.sequence_reset_sql(no_style(), [Activity]):
            cursor.execute(sql)
    # Read positions: never read, half read, 30 behind, read to the end (twice).
    last = dict(
        Activity.objects.filter(group__isnull=False, verb=Activity.Verb.SHARE)
        .values("group_id")
        .order_by()
        .annotate(last=Max("id"))
        .values_list("group_id", "last")
    )
    for k, group in enumerate(made):
        ids = list(
            Activity.objects.filter(group=group, verb=Activity.Verb.SHARE).order_by("id").values_list("id", flat=True)
        )
        position = [0, ids[len(ids) // 2], ids[-31], last[group.pk], last[group.pk]][k % 5]
        Membership.objects.filter(group=group, user=reader).update(read_up_to=position)
    return reader


class Statements:
    """An execute wrapper: each statement's SQL, parameters and time in the database call."""

    def __init__(self):
        self.executed: list[tuple[str, tuple, float]] = []
        self.medians: list[float | None] = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.executed.append((sql, params, time.perf_counter() - started))

    @property
    def seconds(self) -> float:
        return sum(t for *_, t in self.executed)


def timings(label: str, seconds: list[float], in_database: list[float] = (), queries: list[int] = ()) -> dict:
    values = sorted(s * 1000 for s in seconds)
    row = {"what": label, "n": len(values), "median_ms": round(statistics.median(values), 2),
           "p99_ms": round(percentile(values, 0.99), 2), "max_ms": round(values[-1], 2)}  # fmt: skip
    if in_database:
        row["in_database_median_ms"] = round(statistics.median(in_database) * 1000, 2)
    if queries:
        row["queries"] = f"{min(queries)}-{max(queries)}" if min(queries) != max(queries) else queries[0]
    return row


def in_process(reader_id: int, requests: int, profiler=None) -> tuple[list[dict], Statements, dict, str]:
    """GET /api/groups/ and unread_total, timed; the statements of one request; a sample answer; the cookie."""
    from django.db import connection
    from django.test import Client

    from miniapp.accounts.models import User
    from miniapp.engagement.selectors import unread_total

    client = Client()
    client.force_login(User.objects.get(pk=reader_id))
    seconds, in_db, counts, each = [], [], [], defaultdict(list)
    for i in range(WARM_UP + requests):
        statements = Statements()
        if profiler and i >= WARM_UP:
            profiler.enable()
        with connection.execute_wrapper(statements):
            started = time.perf_counter()
            response = client.get("/api/groups/")
            took = time.perf_counter() - started
        if profiler:
            profiler.disable()
        assert response.status_code == 200, (response.status_code, response.content[:300])
        if i >= WARM_UP:
            seconds.append(took)
            in_db.append(statements.seconds)
            counts.append(len(statements.executed))
            for k, (*_, spent) in enumerate(statements.executed):
                each[k].append(spent)
    body = response.json()
    total = []
    for i in range(WARM_UP + requests):
        started = time.perf_counter()
        unread_total(user_id=reader_id)
        if i >= WARM_UP:
            total.append(time.perf_counter() - started)
    # SQLite's execute only starts a SELECT (its rows are read at fetch): time in the database on PostgreSQL only.
    in_db = in_db if connection.vendor == "postgresql" else []
    rows = [timings("in-process GET /api/groups/", seconds, in_db, counts),
            timings("in-process unread_total (tab bar badge)", total, queries=[1])]  # fmt: skip
    with connection.execute_wrapper(captured := Statements()):
        unread_total(user_id=reader_id)
    statements.executed += [(sql, params, t) for sql, params, t in captured.executed]
    # Each statement's median time in the requests (PostgreSQL: the round trip with the rows; SQLite: none).
    statements.medians = [ms(statistics.median(each[k])) if in_db else None for k in range(len(each))]
    statements.medians.append(ms(statistics.median(total)) if in_db else None)
    return rows, statements, body, client.cookies["sessionid"].value


def kind_of(sql: str) -> str:
    if '"django_session"' in sql:
        return "session"
    if sql.startswith("UPDATE"):
        return "groups_refresh slot (UPDATE, no row)"
    if sql.startswith('SELECT "accounts_user"'):
        return "user"
    if 'FROM "accounts_membership"' in sql and '"accounts_group"' in sql:
        return "memberships + unread counts (groups_of)"
    if sql.startswith('SELECT "accounts_membership"') or 'FROM "accounts_membership"' in sql:
        return "unread_total"
    if 'FROM "engagement_view"' in sql:
        return "views of the last posts"
    if 'FROM "engagement_activity"' in sql:
        return "last posts"
    return "other"


def plans(statements: Statements, vendor: str) -> list[dict]:
    """Each SELECT's plan and its bare time (median of 20)."""
    from django.db import connection

    explain = "EXPLAIN QUERY PLAN" if vendor == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS)"
    out = []
    for k, (sql, params, _) in enumerate(statements.executed):
        in_request = statements.medians[k] if k < len(statements.medians) else None
        if not sql.lstrip().upper().startswith("SELECT"):
            out.append(
                {"kind": kind_of(sql), "sql": sql, "plan": [], "bare_median_ms": None, "in_request_ms": in_request}
            )
            continue
        with connection.cursor() as cursor:
            cursor.execute(f"{explain} {sql}", params)
            plan = [" | ".join(str(c) for c in row) for row in cursor.fetchall()]
            times = []
            for _ in range(20):
                started = time.perf_counter()
                cursor.execute(sql, params)
                cursor.fetchall()
                times.append(time.perf_counter() - started)
        out.append({"kind": kind_of(sql), "sql": sql, "plan": plan, "bare_median_ms": ms(statistics.median(times)),
                    "in_request_ms": in_request})  # fmt: skip
    return out


def share_statements(reader_id: int) -> dict:
    """One share into the reader's first group (--members members) in-process: the statements it runs."""
    from django.db import connection
    from django.test import Client

    from miniapp.accounts.models import Membership, User
    from miniapp.videos.models import Video

    client = Client(enforce_csrf_checks=False)
    client.force_login(User.objects.get(pk=reader_id))
    membership = Membership.objects.filter(user_id=reader_id).order_by("group_id").first()
    members = Membership.objects.filter(group_id=membership.group_id).count()
    video = Video.objects.filter(status=Video.Status.PUBLISHED).order_by("pk").first()
    seconds, last = [], None
    for i in range(WARM_UP + 50):
        statements = Statements()
        with connection.execute_wrapper(statements):
            started = time.perf_counter()
            response = client.post(f"/api/videos/{video.pk}/shares/", {"groups": [membership.group_id], "note": "看"},
                                   content_type="application/json")  # fmt: skip
            took = time.perf_counter() - started
        assert response.status_code == 201, (response.status_code, response.content[:300])
        if i >= WARM_UP:
            seconds.append(took)
        last = statements
    in_db = [last.seconds] if connection.vendor == "postgresql" else []  # SQLite: see in_process
    row = timings(f"in-process share into a group of {members} (no socket)", seconds, in_db, [len(last.executed)])
    return {"row": row, "statements": [sql for sql, _, _ in last.executed], "members": members}


def over_http(url: str, cookie: str, requests_: int) -> dict:
    import requests

    with requests.Session() as session:
        session.trust_env = False
        session.cookies.set("sessionid", cookie)
        seconds = []
        for i in range(WARM_UP + requests_):
            started = time.perf_counter()
            response = session.get(f"{url}/api/groups/", timeout=30)
            took = time.perf_counter() - started
            assert response.status_code == 200, (response.status_code, response.text[:300])
            if i >= WARM_UP:
                seconds.append(took)
    return timings("HTTP (Daphne) GET /api/groups/", seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="where to write the figures (JSON)")
    parser.add_argument("--database-url", help="an EMPTY scratch PostgreSQL database instead of a temporary SQLite")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--members", type=int, default=500, help="members of each group, the reader included")
    parser.add_argument("--posts", type=int, default=10_000, help="posts in each group")
    parser.add_argument("--other", type=int, default=100_000, help="friends' log entries (no group) among them")
    parser.add_argument("--pool", type=int, default=5_000, help="users the members are drawn from")
    parser.add_argument("--skip-http", action="store_true", help="in-process figures only")
    parser.add_argument("--profile", action="store_true", help="print where the in-process GETs spent their time")
    args = parser.parse_args()
    time_limit(1800)
    started = time.monotonic()
    with temp_dir() as tmp:
        port = free_port()
        env = app_env(tmp, site_url=f"http://127.0.0.1:{port}", database_url=args.database_url)
        env.update(GROUPS_SYNC_SECONDS="86400", SHARE_RATE="100000/minute")
        (tmp / "static").mkdir()  # STATIC_ROOT: nothing to collect for an API, but WhiteNoise wants the folder
        os.environ.clear()
        os.environ.update(env)
        import django
        from django.db import connection

        django.setup()
        if args.database_url and "videos_video" in connection.introspection.table_names():
            raise SystemExit("--database-url: that database already holds miniapp's tables; give an empty one")
        data = seed(args.groups, args.members, args.posts, args.other, args.pool)
        print(f"  seeded {connection.vendor} in {time.monotonic() - started:.0f} s: {data}", flush=True)
        profiler = cProfile.Profile() if args.profile else None
        rows, statements, body, cookie = in_process(data["reader_id"], args.requests, profiler)
        if profiler:
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(os.environ.get("PROFILE_SORT", "cumulative")).print_stats(50)
            print(out.getvalue(), flush=True)
        explained = plans(statements, connection.vendor)
        connection.close()
        if not args.skip_http:
            with daphne(env, port, tmp / "daphne.log") as url:
                rows.append(over_http(url, cookie, args.requests))
        share = share_statements(data["reader_id"])  # after the counts: its posts would change them
        rows.append(share["row"])
        connection.close()
    unread = [group["unread"] for group in body["groups"]]
    result = {
        "data": data,
        "rows": rows,
        "plans": explained,
        "answer": {"groups": len(body["groups"]), "unread": body["unread"], "unread_per_group": unread,
                   "member_counts": sorted({g["member_count"] for g in body["groups"]})},
        "share": share,
        "seconds": round(time.monotonic() - started, 1),
    }  # fmt: skip
    Path(args.out).write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
