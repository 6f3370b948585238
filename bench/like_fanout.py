"""How fast a like reaches every online friend: miniapp on Daphne, next to a bare `websockets` floor.

The short version of bench/realtime.py (which also measures PostgreSQL + Redis, two workers and stock
Channels): for each N in --sizes, the app as in production (bench/fanout_app.py: DEBUG off, or on with
--debug as `make run` runs it; SQLite, the in-memory channel layer, LIKE_RATE out of the way, N friends
signed in, one fresh Daphne), then
the floor (bench/baselines.py: a minimal `websockets` server broadcasting a trigger as big as a like event
to the same N sockets), both measured as bench/fanout.py says. Goals: p99 under 50 ms at N=100 and
250 ms at N=1000, nothing lost.

With --redis-url the app runs on the Redis channel layer (--layer core: RedisChannelLayer, or pubsub:
RedisPubSubChannelLayer), still on SQLite: the difference between runs is the layer.

    .venv/bin/python bench/like_fanout.py [--sizes 100,1000] [--json PATH] [--redis-url redis://… --layer core|pubsub]
        [--debug]
"""

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import baselines, common, fanout_app  # noqa: E402

GOAL_P99_MS = {100: 50, 1000: 250}

HEADERS = ["N", "system", "p50 ms", "p99 ms", "max ms", "lost", "deliveries/s", "req/s", "peak deliveries/s",
           "KB/socket", "p50 x floor", "p99 x floor", "goal", "met"]  # fmt: skip


def row(n: int, name: str, r: dict, floor: dict | None) -> list:
    lat, best, goal = r["latency"], r["best"], GOAL_P99_MS.get(n)
    lost = [lat["lost"], sum(step["lost"] for step in r["steps"])]
    ratios = [round(lat[k] / floor["latency"][k], 1) for k in ("p50_ms", "p99_ms")] if floor else ["", ""]
    met = ("yes" if lat["p99_ms"] < goal and not any(lost) else "NO") if goal and floor else ""
    return [n, name, round(lat["p50_ms"], 1), round(lat["p99_ms"], 1), round(lat["max_ms"], 1),
            f"{lost[0]} / {lost[1]}", round(best.get("deliveries_per_s", 0)), round(best.get("requests_per_s", 0), 1),
            round(r["peak"]["deliveries_per_s"]), round(r["kb_per_socket"], 1), *ratios,
            f"p99 < {goal} ms, 0 lost" if goal and floor else "", met]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000", help="numbers of online friends, comma-separated")
    parser.add_argument("--workers", type=int, default=8, help="parallel sign-ins")
    parser.add_argument("--time-limit", type=int, default=540, help="seconds before the run gives up")
    parser.add_argument("--json", help="also write the figures here")
    parser.add_argument("--redis-url", help="run the app on this Redis (an empty scratch database)")
    parser.add_argument("--layer", choices=["core", "pubsub"], default="core", help="with --redis-url")
    parser.add_argument("--debug", action="store_true", help="DEBUG on, as `make run`")
    parser.add_argument("--serve-floor", type=int, help=argparse.SUPPRESS)  # now `python -m bench.baselines PORT`
    args = parser.parse_args()
    if args.serve_floor:
        return asyncio.run(baselines.serve_floor(args.serve_floor))
    sizes = [int(size) for size in args.sizes.split(",")]
    common.raise_fd_limit(max(sizes) + 1024)  # one descriptor per socket on each side; Daphne inherits it
    common.time_limit(args.time_limit)
    layer = f"Redis ({args.layer})" if args.redis_url else "in-memory layer"
    debug = "on" if args.debug else "off"
    print(f"like_fanout: LIKE_RATE={fanout_app.LIKE_RATE} (rate limit out of the way), DEBUG {debug}, SQLite, {layer}")
    started, results, rows = time.monotonic(), {}, []
    for n in sizes:
        print(f"N={n}: miniapp", flush=True)
        prepared = fanout_app.prepared(
            n, redis_url=args.redis_url, redis_layer=args.layer, workers=args.workers, debug=args.debug
        )
        with prepared as app:
            result = fanout_app.run(app, n)
        print(f"N={n}: floor", flush=True)
        floor = baselines.run_floor(n, result["event_bytes"])
        results[n] = {"miniapp": result, "floor": floor}
        rows += [row(n, "miniapp", result, floor), row(n, "floor", floor, None)]
    print("\n" + common.table(HEADERS, rows))
    print("\nlost: deliveries lost in the 20 timed requests / in the rate steps. deliveries/s, req/s: the fastest")
    print("rate step kept up with (nothing lost, no backlog growing 0.05 s a second or more); peak: the fastest step.")
    print(f"Whole run {time.monotonic() - started:.0f} s.")
    common.write_json(args.json, {"like_rate": fanout_app.LIKE_RATE, "results": results})


if __name__ == "__main__":
    main()
