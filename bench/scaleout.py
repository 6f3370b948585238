"""Scale-out: what a like costs each worker as workers are added, the broadcast hub before, streams by shard after.

W = 1, 2, 4 and 8 (--workers) socket workers, Daphnes on PostgreSQL + Redis, and one more Daphne that serves the likes
and holds no socket, so that a socket worker's CPU is the push path's alone. The liker has --friends (1,000) friends
online, all in shards that worker 0 holds for every W; each other worker holds --others (50) sockets of users who are
nobody's friend, in its own shards. Worker w holds the sockets of shard s when s mod W = w: nginx's `hash $arg_shard
consistent` (README) spreads shards over workers as evenly, here with a placement that is the same in every run. The
users are made in the database (bench/scaleout_data.py). For each W, once on the code before (the broadcast hub,
--before, default BEFORE) and once on this checkout, in that order:
- idle (IDLE_SECONDS, no like, before the steps and after them): each socket worker's CPU, and Redis's commands and
  bytes sent a second, per process;
- rate steps (--rates, cluster-wide likes/s, --seconds each), likes and unlikes through the front Daphne: the CPU each
  socket worker spent per like, its idle CPU taken out, for worker 0 (holds every recipient) and the mean of the others
  (hold none), with the bytes Redis sent them a like, the front's CPU per like, Redis's
  and PostgreSQL's, the deliveries' p99 and what was lost.
Goals (issue 20): a worker holding none of a like's recipients spends <= 5% of what the broadcast costs it; idle
traffic per worker independent of W; 0 lost. Run it alone: every Daphne shares the machine's cores with the client.

    .venv/bin/python bench/scaleout.py [--json PATH] [--database-url postgres://…] [--redis-url redis://…]
        [--before REV] [--workers 1,2,4,8] [--friends 1000] [--others 50] [--rates 5,10,20] [--seconds 10]
"""

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import redis
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import backing, common, fanout, fanout_app  # noqa: E402

# The last commit whose hub read one broadcast group (every event, with its full recipient list, to every worker,
# and each worker's heartbeat to every other each second); the next one moved the hub onto the streams.
BEFORE = "2e68e4e"
SHARDS = 16  # REALTIME_SHARDS for both: worker 0's shards (s mod 8 = 0) are its own for every W up to 8
IDLE_SECONDS = 15
LOCAL = {"127.0.0.1", "localhost", "::1"}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common.json_argument(parser)
    parser.add_argument("--database-url", help="a PostgreSQL server whose role may CREATE DATABASE")
    parser.add_argument("--redis-url", help="a scratch Redis (flushed)")
    parser.add_argument("--before", default=BEFORE, help=f"the broadcast hub's commit (default {BEFORE})")
    parser.add_argument("--workers", default="1,2,4,8")
    parser.add_argument("--friends", type=int, default=1000)
    parser.add_argument("--others", type=int, default=50)
    parser.add_argument("--rates", default="5,10,20", help="cluster-wide likes/s")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--codes", default="before,after")
    return parser.parse_args()


@contextmanager
def checkout(rev: str):
    """The code at `rev` in a worktree of its own (removed afterwards), its `.venv` this one's."""
    folder = Path(tempfile.mkdtemp(prefix="miniapp-scaleout-"))
    git = ["git", "-C", str(common.ROOT), "worktree"]
    subprocess.run([*git, "add", "--detach", str(folder), rev], check=True, capture_output=True)  # noqa: S603
    try:
        yield folder
    finally:
        subprocess.run([*git, "remove", "--force", str(folder)], check=False)  # noqa: S603


def prepare(tmp: Path, database_url: str, redis_url: str, args) -> dict:
    """The app's data: demo videos, the scale-out users and their sessions; the liker's cookies and the videos."""
    port = common.free_port()
    url = f"http://127.0.0.1:{port}"
    env = common.app_env(tmp, site_url=url, database_url=database_url)
    env.update(LIKE_RATE=fanout_app.LIKE_RATE, REDIS_URL=redis_url, REALTIME_SHARDS=str(SHARDS))
    started = time.monotonic()
    common.manage(env, "migrate", "--no-input", timeout=300)
    common.manage(env, "seed_demo", timeout=600)
    common.manage(env, "collectstatic", "--no-input", timeout=300)
    users = args.friends * 8 + 8 * args.others + 200  # a friend is one user in 8 (shard mod 8 = 0)
    done = subprocess.run(  # noqa: S603
        [common.PYTHON, "-m", "bench.scaleout_data", "--users", str(users), "--friends", str(args.friends),
         "--others", str(args.others), "--workers", args.workers],
        cwd=common.ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    if done.returncode:
        raise RuntimeError(f"bench.scaleout_data failed:\n{done.stdout}\n{done.stderr}")
    data = json.loads(done.stdout)
    with common.started(fanout_app.daphne_command(port), env, tmp / "prepare.log", port):
        liker = requests.Session()
        liker.trust_env = False
        liker.cookies.set("sessionid", data["liker"]["session"])
        liker.get(f"{url}/", timeout=30).raise_for_status()  # the home page sets the csrftoken cookie
        liker.user_id = data["liker"]["id"]
        videos = [video["id"] for video in liker.get(f"{url}/api/videos/", timeout=30).json()["results"]]
    print(f"  migrate + seed_demo + collectstatic + {users + 1} users: {time.monotonic() - started:.1f} s", flush=True)
    return {"env": env, "liker": liker, "videos": videos, "users": data["users"]}


def placement(users: list[dict], workers: int, others: int) -> list[list[dict]]:
    """The sockets of each worker: every friend on worker 0 (their shards are its own), and `others` users of its
    own shards on each other worker."""
    placed = [[user for user in users if user["friend"]]] + [[] for _ in range(1, workers)]
    for user in users:
        worker = user["id"] % SHARDS % workers
        if not user["friend"] and worker and len(placed[worker]) < others:
            placed[worker].append(user)
    return placed


def redis_counters(client: redis.Redis) -> dict:
    stats = client.info("stats")
    return {key: stats[key] for key in ("total_commands_processed", "total_net_output_bytes")}


async def idle_figures(pids: list[int], client: redis.Redis) -> dict:
    """IDLE_SECONDS with no like: each socket worker's CPU, Redis's commands and bytes out per process."""
    cpu, counters, began = cpu_s(pids), redis_counters(client), fanout.now()
    await asyncio.sleep(IDLE_SECONDS)
    took = fanout.now() - began
    after, processes = redis_counters(client), len(pids) + 1
    idle = {
        "cpu_ms_per_s": [round((now - cpu[i]) / took * 1000, 3) for i, now in enumerate(cpu_s(pids))],
        "redis_commands_per_s_per_process": per(after, counters, "total_commands_processed") / took / processes,
        "redis_bytes_out_per_s_per_process": per(after, counters, "total_net_output_bytes") / took / processes,
    }
    print(f"    idle: worker CPU {idle['cpu_ms_per_s']} ms/s; Redis per process "
          f"{idle['redis_commands_per_s_per_process']:.1f} commands/s, "
          f"{idle['redis_bytes_out_per_s_per_process']:.0f} bytes out/s", flush=True)  # fmt: skip
    return idle


def cpu_ns(pid: int) -> int:
    """Nanoseconds on a CPU so far, all threads (schedstat): /proc's ticks are 10 ms, as much as what a like
    costs a worker that holds none of its recipients in a whole step. 0 for a process gone (a PostgreSQL
    backend that ended)."""
    total = 0
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return 0
    for task in tasks:
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, IndexError, ValueError):
            continue  # a thread that just ended
    return total


def cpu_s(pids: list[int]) -> list[float]:
    return [cpu_ns(pid) / 1e9 for pid in pids]


def postgres_pids() -> list[int]:
    """This machine's PostgreSQL processes (the server's, when it runs here; else none)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if (proc / "comm").read_text().strip() == "postgres":
                    pids.append(int(proc.name))
            except OSError:
                continue
    return pids


def bytes_from_redis(pids: list[int], port: int) -> list[int]:
    """Bytes each process has received from Redis so far, over its open connections (`ss -tinp`: the kernel's
    count per TCP connection; a connection closed meanwhile takes its count with it)."""
    out = subprocess.run(  # noqa: S603
        ["ss", "-tinpH", "state", "established", f"( dport = :{port} )"],  # noqa: S607
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    got: dict[int, int] = {}
    for connection in re.split(r"\n(?=\S)", out.strip()):
        pid = re.search(r"pid=(\d+)", connection)
        received = re.search(r"bytes_received:(\d+)", connection)
        if pid:
            got[int(pid.group(1))] = got.get(int(pid.group(1)), 0) + (int(received.group(1)) if received else 0)
    return [got.get(pid, 0) for pid in pids]


def per(after: dict, before: dict, key: str) -> float:
    return after[key] - before[key]


def describe(step: dict, n: int) -> str:
    others = step["others_us_per_like"]
    return (
        f"worker 0 (holds the {n} friends) {step['holding_us_per_like']:.0f} us a like"
        + (
            f", the others (hold none) {others:.1f} us ({step['others_raw_us_per_like']:.1f} with their idle CPU,"
            f" {step['others_bytes_in_per_like']:.0f} bytes from Redis)"
            if others is not None
            else ""
        )
        + f"; front {step['front_us_per_like']:.0f} us, Redis {step['redis_us_per_like'] or 0:.0f} us"
        f" ({step['redis_commands_per_like']:.1f} commands), PostgreSQL {step['postgres_us_per_like'] or 0:.0f} us;"
        f" p99 {step['p99_ms']:.1f} ms, lost {step['lost']}/{step['expected']}, to nobody's friends {step['strays']},"
        f" failed requests {step['failed']}"
    )


class Counter:
    """Frames that reach sockets of nobody's friends: none should."""

    def __init__(self):
        self.count = 0

    def arrived(self, text: str, received: float, index: int) -> None:
        self.count += 1


async def measure(procs: list, front, placed: list[list[dict]], ports: list[int], app: dict, redis_url: str,
                  rates: list[float], seconds: float, origin: str) -> dict:  # fmt: skip
    """Idle figures, then the rate steps (see the module's docstring)."""
    friends, strays = fanout.Sockets(), fanout.Sockets()
    counter = Counter()
    strays.arrived = counter.arrived
    targets = [
        (f"ws://127.0.0.1:{ports[w]}/ws/activity/?shard={user['id'] % SHARDS}", f"sessionid={user['session']}")
        for w, users in enumerate(placed)
        for user in users
    ]
    front_url = f"http://127.0.0.1:{front[1]}"
    liker = fanout_app.Liker([front_url], app["liker"], app["videos"], app["env"]["DATABASE_URL"])
    client = redis.Redis.from_url(redis_url)
    pids = [proc.pid for proc in procs]
    redis_pid = client.info("server")["process_id"]  # a server on this machine: its CPU is counted
    services = [redis_pid] if Path(f"/proc/{redis_pid}").exists() and urlsplit(redis_url).hostname in LOCAL else []
    n = len(placed[0])
    port = urlsplit(redis_url).port or 6379
    try:
        await friends.open(targets[:n], origin)
        await strays.open(targets[n:], origin)
        await asyncio.sleep(2)
        idle = await idle_figures(pids, client)
        for k in range(2):  # warm-up: the front's first requests, and their deliveries in before a step counts
            target = friends.count + n
            await liker.fire(k)
            await friends.wait(target, fanout.LOSS_TIMEOUT)
        steps = []
        front_pid = front[0].pid
        for rate in rates:
            target, strays_before = friends.count, counter.count
            database = postgres_pids()
            services_cpu = sum(cpu_s(services)), sum(cpu_s(database))
            client.config_resetstat()  # the commands' counts and times, for this step
            got = bytes_from_redis(pids, port)
            cpu, front_cpu, counters, began = cpu_s(pids), cpu_ns(front_pid) / 1e9, redis_counters(client), fanout.now()
            ops = await fanout.fire_at(liker, rate, seconds)
            await friends.wait(target + sum(op["ok"] for op in ops) * n, fanout.LOSS_TIMEOUT)
            took = fanout.now() - began
            liker.resolve(ops)
            likes = sum(op["ok"] for op in ops)
            used = [now - cpu[i] for i, now in enumerate(cpu_s(pids))]
            read = [now - got[i] for i, now in enumerate(bytes_from_redis(pids, port))]
            after = redis_counters(client)
            redis_cpu = sum(cpu_s(services)) - services_cpu[0]
            postgres_cpu = sum(cpu_s(database)) - services_cpu[1]
            calls = client.info("commandstats")
            step = {
                "rate": rate, **fanout.stats(ops, friends.events, n),
                "likes": likes, "took_s": took, "used_s": used,
                "each_bytes_in_per_like": [round(x / likes) for x in read] if likes else [],
                "others_bytes_in_per_like": sum(read[1:]) / len(read[1:]) / likes if likes and read[1:] else None,
                "front_us_per_like": (cpu_ns(front_pid) / 1e9 - front_cpu) / likes * 1e6 if likes else None,
                "each_raw_us_per_like": [round(x / likes * 1e6, 1) for x in used] if likes else [],
                "others_raw_us_per_like": (sum(used[1:]) / len(used[1:]) / likes * 1e6) if likes and used[1:] else None,
                "redis_commands_per_like": per(after, counters, "total_commands_processed") / likes if likes else None,
                "strays": counter.count - strays_before,
                # Where the server runs here: its CPU a like (Redis: the whole server; PostgreSQL: every backend).
                "redis_us_per_like": redis_cpu / likes * 1e6 if likes and services else None,
                "postgres_us_per_like": postgres_cpu / likes * 1e6 if likes and database else None,
                "redis_commands": {
                    name.removeprefix("cmdstat_"): {"calls": stat["calls"], "usec_per_call": stat["usec_per_call"]}
                    for name, stat in calls.items()
                },
            }  # fmt: skip
            step.pop("first_last_ms")
            steps.append(step)
        # The idle CPU taken out of each step is the mean of before and after the steps: a worker's idle CPU
        # (its reader's timeouts, the session sweep, the broadcast's heartbeats) is the noise around a cost near 0.
        again = await idle_figures(pids, client)
        idle_cpu = [(a + b) / 2 / 1000 for a, b in zip(idle["cpu_ms_per_s"], again["cpu_ms_per_s"], strict=True)]
        for step in steps:
            spent = [used - idle_cpu[i] * step["took_s"] for i, used in enumerate(step["used_s"])]
            likes = step["likes"]
            step.update({
                "holding_us_per_like": spent[0] / likes * 1e6 if likes else float("nan"),
                "others_us_per_like": (sum(spent[1:]) / len(spent[1:]) / likes * 1e6) if likes and spent[1:] else None,
                "each_us_per_like": [round(x / likes * 1e6, 1) for x in spent] if likes else [],
            })  # fmt: skip
            print(f"    {step['rate']:g} likes/s: {describe(step, n)}", flush=True)
        return {"sockets": [len(users) for users in placed], "idle": idle, "idle_after": again, "steps": steps}
    finally:
        await friends.close()
        await strays.close()
        await liker.close()
        client.close()


def run(code: Path, workers: int, app: dict, tmp: Path, redis_url: str, args) -> dict:
    """W socket workers and the front, on the code in `code`."""
    placed = placement(app["users"], workers, args.others)
    with ExitStack() as stack:
        ports = common.free_ports(workers + 1)
        env = {**app["env"], "CSRF_TRUSTED_ORIGINS": f"http://127.0.0.1:{ports[0]}"}
        procs = [
            stack.enter_context(
                common.started(fanout_app.daphne_command(port), env, tmp / f"daphne-{i}.log", port, cwd=code)
            )  # fmt: skip
            for i, port in enumerate(ports)
        ]
        rates = [float(x) for x in args.rates.split(",")]
        result = fanout.run_client(
            measure(
                procs[:-1],
                (procs[-1], ports[-1]),
                placed,
                ports[:-1],
                app,
                redis_url,
                rates,
                args.seconds,
                f"http://127.0.0.1:{ports[0]}",
            )  # fmt: skip
        )
        result["daphne_log_problems"] = [
            line for i in range(workers + 1) for line in common.log_problems(tmp / f"daphne-{i}.log")
        ]
    if result["daphne_log_problems"]:
        print("    Daphne logs:", *result["daphne_log_problems"][:8], sep="\n      ")
    return result


def tables(results: dict, rates: list[float]) -> dict:
    rows, idle_rows = [], []
    for workers, by_code in sorted(results.items()):
        before, after = by_code.get("before"), by_code.get("after")
        for code, result in (("before", before), ("after", after)):
            if result is None:
                continue
            idle = result["idle"]
            cpu = idle["cpu_ms_per_s"]
            others = round(sum(cpu[1:]) / len(cpu[1:]), 2) if cpu[1:] else ""
            idle_rows.append([workers, code, cpu[0], others,
                              round(idle["redis_commands_per_s_per_process"], 1),
                              round(idle["redis_bytes_out_per_s_per_process"])])  # fmt: skip
        for i, rate in enumerate(rates):
            row = [workers, rate]
            for result in (before, after):
                step = result["steps"][i] if result and i < len(result["steps"]) else None
                if step is None:
                    row += ["", "", "", "", ""]
                    continue
                others, bytes_in = step["others_us_per_like"], step.get("others_bytes_in_per_like")
                row += [round(step["holding_us_per_like"]), "" if others is None else round(others, 1),
                        "" if bytes_in is None else round(bytes_in), round(step["p99_ms"], 1),
                        step["lost"] + step["strays"]]  # fmt: skip
            b = before["steps"][i]["others_us_per_like"] if before and i < len(before["steps"]) else None
            a = after["steps"][i]["others_us_per_like"] if after and i < len(after["steps"]) else None
            row.append(f"{a / b * 100:.1f} %" if a is not None and b else "")
            rows.append(row)
    return {
        "CPU per cluster-wide like, per socket worker (us; idle CPU taken out)": (
            ["W", "likes/s", "before: holds all", "before: holds none", "bytes from Redis", "before p99 ms",
             "before lost", "after: holds all", "after: holds none", "bytes from Redis", "after p99 ms", "after lost",
             "none: after / before"],
            rows,
        ),
        "Idle, no like": (
            ["W", "code", "worker 0 CPU ms/s", "the others' (mean)", "Redis commands/s per process",
             "Redis bytes out/s per process"],
            idle_rows,
        ),
    }  # fmt: skip


def main() -> None:
    args = parse_args()
    common.raise_fd_limit(4 * (args.friends + 8 * args.others) + 1024)
    codes = [code for code in args.codes.split(",") if code]
    rates = [float(x) for x in args.rates.split(",")]
    results: dict[int, dict[str, dict]] = {}
    with ExitStack() as stack:
        database_server, redis_url, where = stack.enter_context(backing.services(args.database_url, args.redis_url))
        if database_server is None:
            sys.exit(f"scaleout needs PostgreSQL and Redis: {where}")
        print(f"scaleout: {args.friends} friends on worker 0, {args.others} others on each other worker; {where}; "
              f"load average {os.getloadavg()}", flush=True)  # fmt: skip
        tmp = stack.enter_context(common.temp_dir())
        backing.flush_redis(redis_url)
        app = prepare(tmp, stack.enter_context(backing.fresh_database(database_server)), redis_url, args)
        folders = {"after": common.ROOT}
        if "before" in codes:
            folders["before"] = stack.enter_context(checkout(args.before))
        for workers in [int(w) for w in args.workers.split(",")]:
            for code in codes:
                print(f"W={workers}, {code} ({args.before if code == 'before' else 'this checkout'}); "
                      f"load average {os.getloadavg()}", flush=True)  # fmt: skip
                backing.flush_redis(redis_url)
                results.setdefault(workers, {})[code] = run(folders[code], workers, app, tmp, redis_url, args)
    printed = tables(results, rates)
    for title, (headers, rows) in printed.items():
        print(f"\n{title}\n{common.table(headers, rows)}")
    common.write_results(args.json, {"results": results, "before": args.before}, tables=printed)


if __name__ == "__main__":
    main()
