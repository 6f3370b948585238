"""How fast a like reaches N online friends: miniapp in three set-ups, a bare `websockets` floor and stock Channels.

For each N in --sizes (default 100 and 1,000), in one run, on the same N sockets (one client process):
- miniapp_a: the embedded default, as `make run` runs it: SQLite, the in-memory channel layer, one Daphne;
- miniapp_b: PostgreSQL + Redis (REDIS_URL; the app's default layer, "pubsub", or --layer), one Daphne;
- miniapp_c: the same data, two Daphnes, the sockets split evenly, the likes taking turns over both as
  behind a proxy (memory per socket is summed over both);
- miniapp_b_cap, miniapp_c_cap: (b) and (c) again with each Daphne capped at --worker-cores CPUs (0.5 by
  default; a cgroup quota, so root): on a 2-core machine the client and the services take a share of the same
  cores, and two uncapped workers can only have what is left, while one worker has a whole core to itself.
  Capped, each worker stands for a worker on a machine of its own, and two against one measures how the
  app scales, not how much of the machine the client leaves. Beside the uncapped ratio the run prints what
  this machine allows at all (`machine_ceiling`: every core at (c)'s cost a delivery, client and services
  included);
- floor: a minimal `websockets` server broadcasting a trigger as big as a like event (bench/baselines.py);
- stock_*: a minimal stock Channels app (bench/stock_channels.py), one group_send per like, served by Daphne,
  on the in-memory layer, channels_redis RedisPubSubChannelLayer and RedisChannelLayer.
The miniapp set-ups run as in production and `make run` (DEBUG off; --debug: on, as `make dev`), seeded and
signed in as bench/fanout_app.py says; every system is measured as
bench/fanout.py says (latency of likes sent one at a time, deliveries lost, the sustained rate: the fastest
rate step kept up with, the servers' CPU per delivery, memory per idle socket), here with 100 timed likes
(20 for the capped set-ups) and rate steps that offer 500 to 64,000 deliveries/s, rising by √2, then
bisected.

PostgreSQL and Redis: --database-url / --redis-url, else throwaway ones (bench/backing.py), else those
set-ups are skipped. --profile records the first Daphne of every miniapp and stock set-up with py-spy during
a steady fan-out at the largest N (after the measurements, so they do not pay for it) and prints the
functions with the most own time and the fan-out's steps by inclusive time (bench/pyspy.py). The
machine's load average is printed with each N: other work on the same cores moves every figure.

    .venv/bin/python bench/realtime.py [--sizes 100,1000] [--json PATH] [--profile [DIR]]
        [--database-url postgres://…] [--redis-url redis://…] [--systems miniapp_a,floor,…] [--debug]
        [--worker-cores 0.5]
"""

import argparse
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import backing, baselines, common, fanout, fanout_app, pyspy  # noqa: E402

# The rate steps offer 500, 707, 1,000 ... 64,000 deliveries/s (likes/s = that / N), from well below what
# stock Channels sustains at N=1,000 to above the floor's.
OFFERED = [round(500 * 2 ** (k / 2)) for k in range(15)]
# Timed likes. A like's deliveries are slow or fast together, so the p99 of deliveries is about the
# slowest 1% of likes: with 50, one slow like set it (a collector pause in the client, say).
LATENCY_REQUESTS = 100
SYSTEMS = {
    "miniapp_a": "miniapp (a) SQLite + memory, 1 Daphne",
    "floor": "floor (websockets broadcast)",
    "stock_memory": "stock Channels, in-memory layer",
    "miniapp_b": "miniapp (b) PostgreSQL + Redis, 1 Daphne",
    "miniapp_c": "miniapp (c) PostgreSQL + Redis, 2 Daphnes",
    "miniapp_b_cap": "miniapp (b), its Daphne capped at --worker-cores CPUs",
    "miniapp_c_cap": "miniapp (c), each Daphne capped at --worker-cores CPUs",
    "stock_pubsub": "stock Channels, Redis pub/sub layer",
    "stock_core": "stock Channels, Redis core layer",
}
MINIAPP = ["miniapp_a", "miniapp_b", "miniapp_c"]
CAPPED = ["miniapp_b_cap", "miniapp_c_cap"]
WORKER_CORES = 0.5  # each capped Daphne's CPUs: two of them leave a whole core to the client and the services
CAPPED_LATENCY_REQUESTS = 20  # the capped set-ups are there for their rates
STOCK = ["stock_memory", "stock_pubsub", "stock_core"]
GOAL_N = 1000
GOAL = {"p99_x_floor": 4.0, "stock_over_miniapp": 5.0, "two_workers": 1.6, "kb_per_socket": 40.0}


def load() -> str:
    """What `uptime` says about the load: the run queue over 1, 5 and 15 minutes."""
    return time.strftime("%H:%M:%S") + " load average: " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def run_stock(n: int, layer: str, redis_url: str | None, size: int, **options) -> dict:
    with common.temp_dir() as tmp:
        port = common.free_port()
        env = common.inherited_env()
        env.update(STOCK_LAYER=layer, STOCK_REDIS_URL=redis_url or "")
        if redis_url:
            backing.flush_redis(redis_url)
        command = fanout_app.daphne_command(port, "bench.stock_channels:application")
        with common.started(command, env, tmp / "daphne.log", port) as proc:
            trigger = baselines.Trigger(f"http://127.0.0.1:{port}/like", size)
            targets = [(f"ws://127.0.0.1:{port}/ws/", "")] * n
            result = fanout.run_client(
                fanout.measure(trigger, f"stock {layer}", [proc.pid], n, targets, "http://127.0.0.1", **options)
            )
            problems = result["daphne_log_problems"] = common.log_problems(tmp / "daphne.log")
        print(f"  Daphne log: {len(problems)} lines of errors and warnings", *problems[:12], sep="\n    ")
        return result


def run_size(
    n: int, systems: list[str], database_url, redis_url, profile_dir: Path | None, debug: bool, worker_cores: float,
    layer: str = "",
) -> dict:  # fmt: skip
    """Every chosen system at N; a system that fails is noted and the others go on."""
    results: dict[str, dict] = {}

    def attempt(keys: list[str], run) -> None:
        keys = [key for key in keys if key in systems]
        if not keys:
            return
        try:
            run(keys)
        except TimeoutError:
            raise  # the run's time limit: stop everything
        except Exception as error:  # noqa: BLE001  (one broken set-up must not lose the others' figures)
            print(f"  FAILED: {error!r}", flush=True)
            for key in keys:
                results.setdefault(key, {"error": repr(error)})

    def options(key: str) -> dict:
        profile = profile_dir / f"{key}-{n}.speedscope.json" if profile_dir and key not in ("floor", *CAPPED) else None
        latency_requests = CAPPED_LATENCY_REQUESTS if key in CAPPED else LATENCY_REQUESTS
        return {"rates": [round(offered / n, 2) for offered in OFFERED], "latency_requests": latency_requests,
                "profile": profile}  # fmt: skip

    def miniapp(keys: list[str], **services) -> None:
        with contextlib.ExitStack() as stack:
            if services:
                services["database_url"] = stack.enter_context(backing.fresh_database(services["database_url"]))
            app = stack.enter_context(fanout_app.prepared(n, debug=debug, **services))
            for key in keys:
                cores = worker_cores if key in CAPPED else None
                print(f"N={n}: {SYSTEMS[key].replace('--worker-cores', f'{worker_cores:g}')}", flush=True)
                if services:
                    backing.flush_redis(services["redis_url"])  # no dead hub of the previous run in the group
                workers = 2 if key.startswith("miniapp_c") else 1
                results[key] = fanout_app.run(app, n, workers=workers, label=key, cores=cores, **options(key))

    def stock(keys: list[str]) -> None:
        print(f"N={n}: {SYSTEMS[keys[0]]}", flush=True)
        layer = keys[0].removeprefix("stock_")
        results[keys[0]] = run_stock(n, layer, None if layer == "memory" else redis_url, size(), **options(keys[0]))

    def size() -> int:
        """The like event's size, for the floor's and the stock app's triggers (357 bytes in the last run)."""
        return next((r["event_bytes"] for r in results.values() if "event_bytes" in r), 357)

    def floor(keys: list[str]) -> None:
        print(f"N={n}: {SYSTEMS['floor']}", flush=True)
        results["floor"] = baselines.run_floor(n, size(), **options("floor"))

    attempt(["miniapp_a"], miniapp)
    attempt(["floor"], floor)
    attempt(["stock_memory"], stock)
    if not (database_url and redis_url):
        return results
    attempt(
        ["miniapp_b", "miniapp_c", *CAPPED],
        lambda keys: miniapp(keys, database_url=database_url, redis_url=redis_url, redis_layer=layer),
    )
    attempt(["stock_pubsub"], stock)
    attempt(["stock_core"], stock)
    return results


def p99(result: dict | None) -> float | None:
    return result["latency"]["p99_ms"] if result and "latency" in result else None


def lost(result: dict) -> tuple[int, int, int]:
    """Deliveries lost: in the timed likes, in the rate steps up to the sustained rate, in faster steps."""
    best = result["best"].get("rate", 0)
    upto = sum(step["lost"] for step in result["steps"] if step["rate"] <= best)
    return result["latency"]["lost"], upto, sum(step["lost"] for step in result["steps"]) - upto


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


HEADERS = ["N", "system", "p50 ms", "p99 ms", "max ms", "request ms", "spread ms", "lost", "sustained/s", "req/s",
           "peak/s", "CPU us/dlv", "KB/socket", "p99 x floor"]  # fmt: skip


FOOTNOTE = """
request: p50 of the like request (the floor's and stock's trigger); spread: p50 of a like's first to last socket.
lost: timed likes / rate steps up to the sustained rate / faster steps. sustained/s, req/s, CPU us/dlv: the
fastest rate step kept up with (nothing lost, backlog growing < 0.05 s a second): deliveries/s, likes/s, the
servers' CPU time per delivery, the like request's included; peak/s: the fastest step, kept up with or not.
p99 x floor: p99 / the floor's p99 at the same N. *_cap: each Daphne capped at --worker-cores CPUs."""


def rows(n: int, results: dict) -> list[list]:
    out = []
    for key in SYSTEMS:
        r = results.get(key)
        if r is None:
            continue
        if "error" in r:
            out.append([n, key, "failed", *[""] * (len(HEADERS) - 4), r["error"][:60]])
            continue
        lat, best = r["latency"], r["best"]
        times_floor = ratio(p99(r), p99(results.get("floor"))) if key != "floor" else ""
        out.append([n, key, round(lat["p50_ms"], 1), round(lat["p99_ms"], 1), round(lat["max_ms"], 1),
                    round(lat["http_p50_ms"], 1), round(lat["spread_p50_ms"], 1), "/".join(map(str, lost(r))),
                    round(best.get("deliveries_per_s", 0)), round(best.get("requests_per_s", 0), 1),
                    round(r["peak"]["deliveries_per_s"]),
                    round(best.get("cpu_us_per_delivery", float("nan")), 1), round(r["kb_per_socket"], 1),
                    times_floor if times_floor is not None else "?"])  # fmt: skip
    return out


def ratios(results: dict) -> dict:
    ok = {key: r for key, r in results.items() if "latency" in r}
    stock = {key: p99(ok[key]) for key in STOCK if key in ok}
    best_stock = min(stock, key=stock.get, default=None)
    out = {
        "p99_x_floor": {key: ratio(p99(r), p99(ok.get("floor"))) for key, r in ok.items() if key != "floor"},
        "best_stock": best_stock,
        "stock_over_miniapp": {m: {s: ratio(stock[s], p99(ok[m])) for s in stock} for m in MINIAPP if m in ok},
    }
    for suffix in ("", "_cap"):
        b, c = (ok.get(f"miniapp_{x}{suffix}", {}).get("best", {}) for x in "bc")
        out[f"two_workers_over_one{suffix}"] = ratio(c.get("deliveries_per_s"), b.get("deliveries_per_s"))
    out["two_workers_ceiling"] = ratio(
        machine_ceiling(ok.get("miniapp_c", {}).get("steps", [])),
        ok.get("miniapp_b", {}).get("best", {}).get("deliveries_per_s"),
    )
    return out


def machine_ceiling(steps: list[dict]) -> float | None:
    """About the most deliveries/s a set-up can reach on this machine: every core at the cost a delivery
    (servers, client, PostgreSQL and Redis together: their work all grows with the rate) of its step
    that kept the machine busiest. An estimate: a step that kept up may have cost a little less a delivery."""
    busiest = max(steps, key=lambda step: step.get("machine_cores", 0), default=None)
    if not busiest or not busiest.get("machine_cores"):
        return None
    return (os.cpu_count() or 1) * busiest["deliveries_per_s"] / busiest["machine_cores"]


def goals(results: dict, found: dict, worker_cores: float) -> list[list]:
    """Pass/fail of each miniapp set-up against the goals, and two workers against one."""
    table = []
    for key in MINIAPP:
        r = results.get(key, {})
        if "latency" not in r:
            continue
        x_floor = found["p99_x_floor"].get(key)
        over = found["stock_over_miniapp"].get(key, {}).get(found["best_stock"])
        timed, upto, _ = lost(r)
        checks = [
            (f"p99 <= {GOAL['p99_x_floor']:g}x floor", x_floor, x_floor is not None and x_floor <= GOAL["p99_x_floor"]),
            (f"best stock p99 >= {GOAL['stock_over_miniapp']:g}x", over,
             over is not None and over >= GOAL["stock_over_miniapp"]),
            ("0 lost (timed, steps <= sustained)", timed + upto if r["best"] else None, timed + upto == 0),
            (f"< {GOAL['kb_per_socket']:g} KB/idle socket", round(r["kb_per_socket"], 1),
             r["kb_per_socket"] < GOAL["kb_per_socket"]),
        ]  # fmt: skip
        table += [[key, goal, "?", "n/a"] if value is None else [key, goal, value, "pass" if met else "FAIL"]
                  for goal, value, met in checks]  # fmt: skip
    two = f"2 workers >= {GOAL['two_workers']:g}x 1 worker's sustained/s"
    for pair, key, where in [
        (
            "miniapp_c / miniapp_b",
            "two_workers_over_one",
            f"all on the machine's cores, client and services too (about {found['two_workers_ceiling']} at most)",
        ),
        ("miniapp_c_cap / miniapp_b_cap", "two_workers_over_one_cap", f"each worker on {worker_cores:g} CPU"),
    ]:
        if found[key] is not None:
            table.append([pair, f"{two}, {where}", found[key], "pass" if found[key] >= GOAL["two_workers"] else "FAIL"])
    return table


def print_profiles(n: int, results: dict) -> None:
    for key, r in results.items():
        profile = r.get("profile")
        if not profile:
            continue
        per_delivery = 1e6 * profile["busy_s"] / max(1, profile["deliveries"])
        print(f"\npy-spy, {key}, N={n}, {profile['rate']:g} likes/s for {profile['seconds']:g} s: GIL busy "
              f"{profile['busy_s']:.2f} s ({per_delivery:.0f} us a delivery); {profile['file']}")  # fmt: skip
        for f in profile["functions"][:8]:
            print(f"  {f['own_pct']:5.1f}%  {f['function']}  ({f['where']})")
        print("  by package: " + ", ".join(f"{p['package']} {p['own_pct']}%" for p in profile["packages"][:8]))
        print("  inclusive: " + ", ".join(f"{f['function']} {f['inclusive_pct']}%" for f in profile["fan_out"][:8]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000", help="numbers of online friends, comma-separated")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="which of: " + ", ".join(SYSTEMS))
    parser.add_argument("--database-url", help="a PostgreSQL server (URL of any database) allowed to CREATE DATABASE")
    parser.add_argument("--redis-url", help="a scratch Redis database (it and the next are flushed)")
    parser.add_argument("--profile", nargs="?", const="", help="py-spy the servers at the largest N (files: DIR)")
    parser.add_argument("--workers", type=int, default=8, help="parallel sign-ins")
    parser.add_argument("--debug", action="store_true", help="run miniapp with DEBUG on, as `make dev` does")
    parser.add_argument("--layer", choices=["core", "pubsub"], help="REDIS_LAYER of (b) and (c) (default: the app's)")
    parser.add_argument("--worker-cores", type=float, default=WORKER_CORES, help="CPUs of each capped Daphne")
    parser.add_argument("--time-limit", type=int, default=3600, help="seconds before the run gives up")
    common.json_argument(parser)
    args = parser.parse_args()
    if args.worker_cores < 0.1:
        parser.error("--worker-cores: at least 0.1 (the quota must be 1 ms or more in every 10 ms)")
    sizes = [int(size) for size in args.sizes.split(",")]
    systems = [key for key in args.systems.split(",") if key]
    if unknown := set(systems) - set(SYSTEMS):
        parser.error(f"unknown systems: {', '.join(sorted(unknown))}")
    if set(CAPPED) & set(systems) and (problem := common.cpu_cap_problem()):
        print(f"realtime: skipping {', '.join(CAPPED)}: {problem}")
        systems = [key for key in systems if key not in CAPPED]
    if args.profile is not None and not pyspy.executable():
        parser.error("--profile needs py-spy: .venv/bin/pip install -r requirements-dev.txt")
    profile_dir = None
    if args.profile is not None:
        profile_dir = Path(args.profile or tempfile.mkdtemp(prefix="miniapp-realtime-profile-"))
        profile_dir.mkdir(parents=True, exist_ok=True)
    common.raise_fd_limit(2 * max(sizes) + 1024)  # the client's sockets and the servers'; children inherit it
    common.time_limit(args.time_limit)
    started, results, table, loads = time.monotonic(), {}, [], {}
    with backing.services(args.database_url, args.redis_url) as (database_url, redis_url, where):
        mode = "DEBUG on (as make dev)" if args.debug else "DEBUG off (as in production)"
        layer = f", REDIS_LAYER={args.layer}" if args.layer else ""
        print(f"realtime: sizes {sizes}; {where}; LIKE_RATE={fanout_app.LIKE_RATE}, {mode}{layer}")
        for n in sizes:
            loads[n] = [load()]
            print(f"N={n}: {loads[n][0]}", flush=True)
            profile = profile_dir if n == max(sizes) else None
            results[n] = run_size(
                n, systems, database_url, redis_url, profile, args.debug, args.worker_cores, args.layer or ""
            )
            loads[n].append(load())
            table += rows(n, results[n])
    found = {n: ratios(results[n]) for n in sizes}
    print("\n" + common.table(HEADERS, table))
    print(FOOTNOTE)
    for n in sizes:
        print(f"\nN={n}: load {loads[n][0].split('load average:')[-1].strip()} before, "
              f"{loads[n][1].split('load average:')[-1].strip()} after")  # fmt: skip
        for m, over in found[n]["stock_over_miniapp"].items():
            if over:
                print(f"  stock p99 / {m} p99: " + ", ".join(f"{s} {v}x" for s, v in over.items()))
        print(f"  two workers / one worker, sustained deliveries/s: {found[n]['two_workers_over_one']} (this "
              f"machine's ceiling: about {found[n]['two_workers_ceiling']}, see machine_ceiling); "
              f"each worker capped at {args.worker_cores:g} CPU: {found[n]['two_workers_over_one_cap']}")  # fmt: skip
    goal_n = GOAL_N if GOAL_N in sizes else max(sizes)
    goal_table = goals(results[goal_n], found[goal_n], args.worker_cores)
    if goal_table:
        print(f"\nGoals at N={goal_n}" + ("" if goal_n == GOAL_N else f" (they are set for N={GOAL_N})"))
        print(common.table(["system", "goal", "value", "met"], goal_table))
    if profile_dir:
        print_profiles(max(sizes), results[max(sizes)])
    print(f"\nWhole run {time.monotonic() - started:.0f} s.")
    tables = {f"Like to friend, {where}": (HEADERS, table)}
    if goal_table:
        tables[f"Goals at N={goal_n}"] = (["system", "goal", "value", "met"], goal_table)
    common.write_results(args.json, {"sizes": sizes, "services": where, "debug": args.debug, "layer": args.layer,
                                     "load": loads, "worker_cores": args.worker_cores, "results": results,
                                     "ratios": found, "goals": {"n": goal_n, "table": goal_table}},
                         tables=tables, notes=[FOOTNOTE.strip().replace("\n", " ")])  # fmt: skip


if __name__ == "__main__":
    main()
