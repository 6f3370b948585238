"""Groups (社群): a share into a group of 500 online members, the share request, and the groups list's unread counts.

In one run:
1. Fan-out. N=500 (--members): `seed_demo --users 501` makes the provider group `load` of user0001..user0500
   and user0001 the friend of user0002..user0501; all sign in (their groups are imported at sign-in), as
   bench/fanout_app.py says. On the same data and the same Daphnes' set-up, one after the other:
   - like: user0001's likes to 500 online friends (user0002..user0501: one socket each), as bench/realtime.py
     measures them;
   - group: user0001's shares into `load` with a note (`POST /api/videos/{id}/shares/` {"groups": [id],
     "note"}) to its 500 members online (user0001..user0500: one socket each, the sharer's own other page
     among them: a post reaches every member's sockets);
   on (a) the embedded default (SQLite, in-memory layer, one Daphne) and (c) PostgreSQL + Redis with two
   Daphnes (sockets split evenly, requests taking turns over both); and after each set-up the floor: a bare
   `websockets` broadcast to 500 sockets of a frame as big as the group post's event (bench/baselines.py).
   Each system:
   --requests timed requests one at a time after two to warm up (bench/fanout.py `measure`: a delivery's
   latency is its receive time minus the request's send time; one not received 5 s after is lost); with
   --offered, rate steps too (deliveries/s offered, as bench/realtime.py); with --profile, a py-spy recording
   of the (first) Daphne during a steady fan-out afterwards (1,000 deliveries/s for 8 s, bench/fanout.py).
2. The share request: p50/p99 of the timed shares of 1 (500 members, all online), send to response.
3. Unread counts: bench/groups_unread.py, once on SQLite and once on PostgreSQL (a fresh database on the
   --database-url server), each in a process of its own: a reader in 50 groups of 500 members with
   10,000 posts each (bulk-inserted), `GET /api/groups/` in-process and over HTTP (Daphne), with the plan
   of every query it runs (EXPLAIN QUERY PLAN; EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL). The
   groups_refresh slot is fresh (GROUPS_SYNC_SECONDS a day, groups_synced now): the provider is not read.
Goals (issue 16): group p99 within 1.5x the like's to 500 friends and 4x the floor's, 0 lost; the share
request under 50 ms p99; GET /api/groups/ under 30 ms median.

PostgreSQL and Redis: --database-url (a server whose role may CREATE DATABASE; each part gets a fresh
database, dropped afterwards) and --redis-url (a scratch Redis: it and the next database are flushed), else
throwaway ones (bench/backing.py), else the PostgreSQL parts are skipped.

    .venv/bin/python bench/groups.py [--json PATH] [--database-url postgres://…] [--redis-url redis://…]
        [--parts fanout,unread] [--setups a,c] [--members 500] [--requests 100] [--offered 2000,4000]
        [--profile [DIR]]
"""

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import backing, baselines, common, fanout, fanout_app, pyspy  # noqa: E402
from bench.realtime import print_profiles  # noqa: E402

NOTE = "这是我们村的老王"
LATENCY_REQUESTS = 100  # as bench/realtime.py: a request's deliveries are slow or fast together
GROUP_MAX_MEMBERS = 500  # as the provider's (mockwx.models.GROUP_MAX_MEMBERS)
GOAL = {"group_over_like": 1.5, "group_over_floor": 4.0, "share_p99_ms": 50.0, "list_median_ms": 30.0}
SETUPS = {"a": "(a) SQLite + memory, 1 Daphne", "c": "(c) PostgreSQL + Redis, 2 Daphnes"}


class Sharer:
    """user0001's shares into one group over HTTP, taking turns over the workers (as behind a proxy) and over
    the demo videos, each with the same note, in a few threads (a session each). The answer names the post,
    whose id is its `group_post` event's seq."""

    def __init__(self, urls: list[str], session: requests.Session, videos: list[int], group_id: int, threads=4):
        self.urls, self.videos, self.group_id, self.cookies = urls, videos, group_id, session.cookies
        self.pool, self.local, self.sessions = ThreadPoolExecutor(threads), threading.local(), []

    def send(self, video: int, url: str) -> dict:
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
            self.local.session.trust_env = False
            self.local.session.cookies.update(self.cookies)
            self.sessions.append(self.local.session)
        session, op = self.local.session, {"video": video}
        headers = {"X-CSRFToken": session.cookies["csrftoken"], "Referer": f"{url}/"}
        body = {"groups": [self.group_id], "note": NOTE}
        op["t0"] = fanout.now()
        try:
            response = session.post(f"{url}/api/videos/{video}/shares/", json=body, headers=headers, timeout=30)
            op["ok"] = response.status_code == 201
        except requests.RequestException:
            op["ok"] = False
        op["done"] = fanout.now()
        if op["ok"]:
            op["seq"] = response.json()["groups"][0]["post"]
        return op

    async def fire(self, k: int) -> dict:
        video, url = self.videos[k % len(self.videos)], self.urls[k % len(self.urls)]
        return await asyncio.get_running_loop().run_in_executor(self.pool, self.send, video, url)

    def resolve(self, ops: list[dict]) -> None:
        pass  # the answer said which post each share made

    async def close(self) -> None:
        self.pool.shutdown()
        for session in self.sessions:
            session.close()


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def load_group(app: fanout_app.App, n: int) -> tuple[int, int]:
    """The id of the app's group `load` and its members in the app (`seed_demo --users N+1` puts the first
    min(N+1, 500) users in it; each joined at their sign-in), checked."""
    rows = fanout_app.query(
        app.database_url,
        "SELECT g.id, COUNT(m.id) FROM accounts_group g JOIN accounts_membership m ON m.group_id = g.id "
        "WHERE g.name = %s GROUP BY g.id",
        ["load"],
    )
    if len(rows) != 1 or rows[0][1] != min(n + 1, GROUP_MAX_MEMBERS):
        raise RuntimeError(f"the group `load` should have {min(n + 1, GROUP_MAX_MEMBERS)} members in the app: {rows}")
    return rows[0]


def fan_out(setup: str, n: int, services: dict, options: dict, results: dict, profile_dir: Path | None = None) -> None:
    """The like to N friends and the group post to its members, all online, on one set-up; results[setup] =
    {"like": …, "group": …}."""
    workers = 2 if setup == "c" else 1
    with contextlib.ExitStack() as stack:
        if services:
            fresh = stack.enter_context(backing.fresh_database(services["database_url"]))
            services = {**services, "database_url": fresh}
        app = stack.enter_context(fanout_app.prepared(n, **services))
        group_id, members = load_group(app, n)
        # The group's members: user0001 (its own other page) and user0002..; the like's: user0002..user(N+1).
        sockets = [f"sessionid={app.liker.cookies['sessionid']}", *app.cookies[: members - 1]]
        found = results.setdefault(setup, {})
        for kind in ("like", "group"):
            count = members if kind == "group" else n
            print(f"{SETUPS[setup]}, {kind} to {count} sockets (load {load()})", flush=True)
            if services:
                backing.flush_redis(services["redis_url"])
            system, cookies = None, None
            if kind == "group":
                system = lambda urls: Sharer(urls, app.liker, app.videos, group_id)  # noqa: E731
                cookies = sockets
            profile = {"profile": profile_dir / f"{setup}-{kind}.speedscope.json"} if profile_dir else {}
            found[kind] = fanout_app.run(
                app,
                count,
                workers=workers,
                label=f"{setup} {kind}",
                system=system,
                cookies=cookies,
                **options,
                **profile,
            )


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


def p99(result: dict | None) -> float | None:
    return result["latency"]["p99_ms"] if result and "latency" in result else None


FAN_HEADERS = ["set-up", "system", "p50 ms", "p99 ms", "max ms", "request p50", "request p99", "spread ms", "lost",
               "sustained/s", "p99 / like", "p99 / floor"]  # fmt: skip


def fan_rows(results: dict) -> list[list]:
    rows = []
    for setup, label in SETUPS.items():
        found = results.get(setup, {})
        floor, like = found.get("floor"), found.get("like")
        for kind, r in found.items():
            if "error" in r:
                rows.append([label, kind, "failed", *[""] * (len(FAN_HEADERS) - 4), r["error"][:60]])
                continue
            lat = r["latency"]
            steps = sum(step["lost"] for step in r["steps"] if step["rate"] <= r["best"].get("rate", 0))
            rows.append([label, kind if kind != "floor" else "floor (websockets broadcast)", round(lat["p50_ms"], 1),
                         round(lat["p99_ms"], 1), round(lat["max_ms"], 1), round(lat["http_p50_ms"], 1),
                         round(lat["http_p99_ms"], 1), round(lat["spread_p50_ms"], 1),
                         f"{lat['lost']}/{lat['expected']}" + (f" +{steps}" if steps else ""),
                         round(r["best"].get("deliveries_per_s", 0)) if r["steps"] else "",
                         ratio(p99(r), p99(like)) if kind == "group" else "",
                         ratio(p99(r), p99(floor)) if kind != "floor" else ""])  # fmt: skip
    return rows


def fan_goals(results: dict) -> list[list]:
    table = []
    for setup in ("a", "c"):
        group, like = results.get(setup, {}).get("group"), results.get(setup, {}).get("like")
        if not group or "latency" not in group:
            continue
        over_like, over_floor = ratio(p99(group), p99(like)), ratio(p99(group), p99(results[setup].get("floor")))
        lost = group["latency"]["lost"] + sum(
            s["lost"] for s in group["steps"] if s["rate"] <= group["best"].get("rate", 0)
        )
        share = group["latency"]["http_p99_ms"]
        checks = [
            (f"group p99 <= {GOAL['group_over_like']:g}x the like's to as many friends",
             over_like, over_like is not None and over_like <= GOAL["group_over_like"]),
            (f"group p99 <= {GOAL['group_over_floor']:g}x the floor's", over_floor,
             over_floor is not None and over_floor <= GOAL["group_over_floor"]),
            ("0 lost", lost, lost == 0),
            (f"share request p99 < {GOAL['share_p99_ms']:g} ms", round(share, 1), share < GOAL["share_p99_ms"]),
        ]  # fmt: skip
        table += [[SETUPS[setup], goal, "?" if value is None else value, "n/a" if value is None else
                   "pass" if met else "FAIL"] for goal, value, met in checks]  # fmt: skip
    return table


def unread(vendor: str, server_url: str | None, args) -> dict:
    """bench/groups_unread.py in a process of its own (Django is set up once a process)."""
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(common.temp_dir())
        command = [common.PYTHON, "bench/groups_unread.py", "--out", str(tmp / "unread.json"),
                   "--requests", str(args.list_requests)]  # fmt: skip
        if vendor == "postgresql":
            command += ["--database-url", stack.enter_context(backing.fresh_database(server_url))]
        print(f"Unread counts on {vendor} (load {load()})", flush=True)
        subprocess.run(command, cwd=common.ROOT, env=common.inherited_env(), check=True, timeout=1800)  # noqa: S603
        return json.loads((tmp / "unread.json").read_text())


UNREAD_HEADERS = ["database", "what", "n", "median ms", "p99 ms", "max ms", "in database ms", "queries"]


def unread_rows(results: dict) -> list[list]:
    return [
        [vendor, row["what"], row["n"], row["median_ms"], row["p99_ms"], row["max_ms"],
         row.get("in_database_median_ms", ""), row.get("queries", "")]
        for vendor, r in results.items() if "rows" in r for row in r["rows"]
    ]  # fmt: skip


def print_plans(results: dict) -> None:
    for vendor, r in results.items():
        if "plans" not in r:
            continue
        data = r["data"]
        print(f"\nThe queries of GET /api/groups/ on {vendor} ({data['groups']} groups of {data['members_per_group']} "
              f"members, {data['group_posts']:,} posts, {data['log_entries']:,} log entries; "
              f"{data.get('visible_pages', '')}), and unread_total, with their plans and bare times:")  # fmt: skip
        for i, plan in enumerate(r["plans"], 1):
            took = f"{plan['bare_median_ms']} ms bare" if plan["bare_median_ms"] is not None else "not a SELECT"
            if plan.get("in_request_ms") is not None:
                took += f", {plan['in_request_ms']} ms in the requests (median)"
            print(f"\n  {i}. {plan['kind']}: {took}\n     {plan['sql'][:300]}{'…' if len(plan['sql']) > 300 else ''}")
            print("\n".join(f"       {line}" for line in plan["plan"]))
        answer = r["answer"]
        print(f"\n  The answer: {answer['groups']} groups, unread {answer['unread']} in all, per group "
              f"{answer['unread_per_group']}; member counts {answer['member_counts']}")  # fmt: skip
        print(f"  One share into a group of {r['share']['members']}: {len(r['share']['statements'])} statements:")
        print("\n".join(f"    {sql[:140]}" for sql in r["share"]["statements"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="fanout,unread", help="fanout (1 and 2) and/or unread (3)")
    parser.add_argument("--setups", default="a,c", help="which of a (SQLite + memory) and c (PostgreSQL + Redis)")
    parser.add_argument("--members", type=int, default=500, help="online members of the group (and friends)")
    parser.add_argument("--requests", type=int, default=LATENCY_REQUESTS, help="timed likes and shares")
    parser.add_argument("--offered", default="", help="rate steps after the timed requests, deliveries/s")
    parser.add_argument("--list-requests", type=int, default=200, help="timed GET /api/groups/ requests")
    parser.add_argument("--database-url", help="a PostgreSQL server (URL of any database) allowed to CREATE DATABASE")
    parser.add_argument("--redis-url", help="a scratch Redis database (it and the next are flushed)")
    parser.add_argument("--profile", nargs="?", const="", help="py-spy the (first) Daphne during a steady fan-out")
    parser.add_argument("--time-limit", type=int, default=3600, help="seconds before the run gives up")
    common.json_argument(parser)
    args = parser.parse_args()
    parts, setups, n = set(args.parts.split(",")), [s for s in args.setups.split(",") if s], args.members
    if set(setups) - set(SETUPS) or parts - {"fanout", "unread"}:
        parser.error("--setups: a and/or c; --parts: fanout and/or unread")
    profile_dir = None
    if args.profile is not None:
        if not pyspy.executable():
            parser.error("--profile needs py-spy: .venv/bin/pip install -r requirements-dev.txt")
        profile_dir = Path(args.profile or tempfile.mkdtemp(prefix="miniapp-groups-profile-"))
        profile_dir.mkdir(parents=True, exist_ok=True)
    options = {"latency_requests": args.requests,
               "rates": [round(int(x) / n, 2) for x in args.offered.split(",") if x]}  # fmt: skip
    common.raise_fd_limit(4 * n + 1024)
    common.time_limit(args.time_limit)
    started, fan, lists, loads = time.monotonic(), {}, {}, {"start": load()}
    needed = "c" in setups and "fanout" in parts or "unread" in parts
    backing_services = (
        backing.services(args.database_url, args.redis_url)
        if needed
        else contextlib.nullcontext((None, None, "no PostgreSQL or Redis needed"))
    )
    with backing_services as (database_url, redis_url, where):
        print(f"groups: {n} members; {where}; load average {loads['start']}", flush=True)
        if "fanout" in parts:
            for setup in setups:
                services = {"database_url": database_url, "redis_url": redis_url} if setup == "c" else {}
                if setup == "c" and not database_url:
                    continue
                try:
                    fan_out(setup, n, services, options, fan, profile_dir)
                except TimeoutError:
                    raise
                except Exception as error:  # noqa: BLE001  (one broken set-up must not lose the others' figures)
                    print(f"  FAILED: {error!r}", flush=True)
                    fan.setdefault(setup, {}).setdefault("group", {"error": repr(error)})
                # The floor right after each set-up (this machine's speed moves within minutes), its frames
                # as big as the set-up's biggest event (the group post's).
                size = max((r["event_bytes"] for r in fan.get(setup, {}).values() if "event_bytes" in r), default=600)
                print(f"floor: {n} sockets, frames of {size} bytes (load {load()})", flush=True)
                fan.setdefault(setup, {})["floor"] = baselines.run_floor(n, size, **options)
            loads["after_fanout"] = load()
        if "unread" in parts:
            lists["sqlite"] = unread("sqlite", None, args)
            if database_url:
                lists["postgresql"] = unread("postgresql", database_url, args)
            loads["after_unread"] = load()
    tables, notes = {}, []
    if fan:
        rows, goals = fan_rows(fan), fan_goals(fan)
        title = f"A like to {n} friends and a group post to {n} members, all online ({where})"
        print(f"\n{title}\n" + common.table(FAN_HEADERS, rows))
        notes.append("request: the like or share request, send to response (share: the goal's figure); spread: p50 "
                     "of a request's first to last socket; lost: of the timed requests (+ in rate steps kept up with); "
                     "p99 / like: the group post's p99 over the like's on the same set-up.")  # fmt: skip
        print(notes[-1])
        tables[title] = (FAN_HEADERS, rows)
        for setup in setups if profile_dir else []:
            print_profiles(n, {f"{setup} {kind}": r for kind, r in fan.get(setup, {}).items()})
        if goals:
            print("\nGoals\n" + common.table(["set-up", "goal", "value", "met"], goals))
            tables["Goals: fan-out and share request"] = (["set-up", "goal", "value", "met"], goals)
    if lists:
        rows = unread_rows(lists)
        data = next(iter(lists.values()))["data"]
        title = (f"Unread counts: a reader in {data['groups']} groups of {data['members_per_group']} members, "
                 f"{data['posts_per_group']:,} posts each; groups_refresh slot fresh")  # fmt: skip
        print_plans(lists)
        print(f"\n{title}\n" + common.table(UNREAD_HEADERS, rows))
        goals = [[vendor, f"GET /api/groups/ median < {GOAL['list_median_ms']:g} ms ({row['what'].split(' GET')[0]})",
                  row["median_ms"], "pass" if row["median_ms"] < GOAL["list_median_ms"] else "FAIL"]
                 for vendor, r in lists.items() for row in r["rows"] if "GET /api/groups/" in row["what"]]  # fmt: skip
        print("\nGoals\n" + common.table(["database", "goal", "value", "met"], goals))
        tables[title] = (UNREAD_HEADERS, rows)
        tables["Goals: unread counts"] = (["database", "goal", "value", "met"], goals)
    loads["end"] = load()
    print(f"\nLoad average: {loads}. Whole run {time.monotonic() - started:.0f} s.")
    common.write_results(args.json, {"members": n, "services": where, "load": loads, "fanout": fan, "unread": lists},
                         tables=tables, notes=notes)  # fmt: skip


if __name__ == "__main__":
    main()
