"""What the benchmarks share: a throwaway copy of the app, Daphne on 127.0.0.1, tables and results.

Nothing here reads or writes the developer's `var/`, database or media: every run gets a fresh
temporary folder (removed at the end) and an environment that points the app at it.

Every benchmark ends with `write_results`: its figures, and the tables it printed, go to
bench/results/<benchmark>.json (or --json PATH) with the date, the commit, the command line and
the machine; `python -m bench.results` turns those files into bench/RESULTS.md.
"""

import contextlib
import json
import os
import platform
import resource
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
RESULTS = ROOT / "bench" / "results"  # one JSON file per run; bench/results.py makes bench/RESULTS.md of them

# Settings the app reads from the environment: dropped from the inherited environment so a
# developer's own values (database, Redis, provider...) never leak into a benchmark run.
APP_VARIABLES = [
    "VAR_DIR", "DATABASE_URL", "MEDIA_ROOT", "STATIC_ROOT", "SITE_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS", "REDIS_URL", "DB_CONN_MAX_AGE", "MOCK_OAUTH_ENABLED", "OIDC_ISSUER", "OIDC_CLIENT_ID",
    "OIDC_CLIENT_SECRET", "OIDC_SCOPES", "OIDC_PROVIDER_NAME", "OIDC_FETCH_FRIENDS", "SERVE_MEDIA", "LOG_LEVEL",
    "DJANGO_SETTINGS_MODULE",
]  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_ports(count: int) -> list[int]:
    """`count` different free ports (free_port's one at a time may repeat: a server started on a port another one
    already serves would fail to bind, and `started` would take the other's answer for its own)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for each in sockets:
            each.bind(("127.0.0.1", 0))
        return [each.getsockname()[1] for each in sockets]


def inherited_env() -> dict[str, str]:
    """This process's environment without the app's settings (APP_VARIABLES)."""
    return {key: value for key, value in os.environ.items() if key not in APP_VARIABLES}


def app_env(tmp: Path, *, site_url: str, database_url: str | None = None, live_runner: bool = False) -> dict[str, str]:
    """The environment of a production-like app (DEBUG off) living entirely in `tmp`.

    `live_runner` off (the default here, on in production): `seed_demo` leaves a live on air,
    and a Daphne playing it would spend CPU and hold the GIL in the middle of a benchmark that
    is not about lives."""
    env = inherited_env()
    env.update(
        DJANGO_SETTINGS_MODULE="miniapp.settings",
        VAR_DIR=str(tmp),
        DATABASE_URL=database_url or f"sqlite:///{tmp / 'db.sqlite3'}",
        MEDIA_ROOT=str(tmp / "media"),
        STATIC_ROOT=str(tmp / "static"),
        SITE_URL=site_url,
        SECRET_KEY=secrets.token_urlsafe(50),
        DEBUG="0",
        ALLOWED_HOSTS="127.0.0.1,testserver",
        LOG_LEVEL="WARNING",
        LIVE_RUNNER="1" if live_runner else "0",
    )
    return env


def manage(env: dict[str, str], *args: str, timeout: float = 90) -> None:
    """Run `manage.py ARGS` in the temporary environment; fail loudly with its output."""
    done = subprocess.run(  # noqa: S603  (our own manage.py)
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


@contextmanager
def temp_dir():
    path = Path(tempfile.mkdtemp(prefix="miniapp-bench-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextmanager
def started(cmd: list[str], env: dict[str, str], log: Path, port: int, cwd: Path = ROOT):
    """Run `cmd` (in `cwd`, this checkout by default) until it accepts connections on 127.0.0.1:`port`; always
    stopped on the way out."""
    with open(log, "wb") as out:
        process = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
        try:
            deadline = time.monotonic() + 30
            while process.poll() is None and time.monotonic() < deadline:
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
                time.sleep(0.2)
            else:
                raise RuntimeError(f"{' '.join(cmd[1:3])} did not start:\n{log.read_text()[-3000:]}")
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@contextmanager
def daphne(env: dict[str, str], port: int, log: Path):
    """Daphne serving the app on 127.0.0.1:`port` (it listens once the app is loaded)."""
    with started(
        [PYTHON, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "miniapp.asgi:application"], env, log, port
    ):
        yield f"http://127.0.0.1:{port}"


CPU_PERIOD_US = 10_000  # a capped process runs at most `cores` x 10 ms in every 10 ms: short stalls, not 100 ms ones


def cpu_cgroup_root() -> tuple[Path, int] | None:
    """Where a CPU cgroup can be made, and the cgroup version: v2 (one tree) or v1 (a `cpu` tree)."""
    v2 = Path("/sys/fs/cgroup/cgroup.subtree_control")  # lists the controllers child groups get
    if v2.exists() and "cpu" in v2.read_text().split():
        return v2.parent, 2
    v1 = Path("/sys/fs/cgroup/cpu")
    return (v1, 1) if (v1 / "cpu.cfs_quota_us").exists() else None


def cpu_cap_problem() -> str | None:
    """Why cpu_capped cannot work here, or None."""
    found = cpu_cgroup_root()
    if found is None or not os.access(found[0], os.W_OK):
        return "capping a worker's CPU needs the cgroup cpu controller, writable (as root)"
    return None


@contextmanager
def cpu_capped(pid: int, cores: float):
    """Process `pid` and all its threads get at most `cores` CPUs (a cgroup with a CPU quota, as a container
    limit would give them): a worker capped like this stands for a worker on a machine of its own, so the
    client and the services on the same machine do not take from its share, nor it from theirs. Needs root."""
    if problem := cpu_cap_problem():
        raise RuntimeError(problem)
    root, version = cpu_cgroup_root()
    group = root / f"miniapp-bench-{pid}"
    group.mkdir(exist_ok=True)  # one left by an earlier run for a process of the same pid is empty
    try:
        quota = round(cores * CPU_PERIOD_US)
        if version == 2:
            (group / "cpu.max").write_text(f"{quota} {CPU_PERIOD_US}")
        else:
            (group / "cpu.cfs_period_us").write_text(str(CPU_PERIOD_US))
            (group / "cpu.cfs_quota_us").write_text(str(quota))
        (group / "cgroup.procs").write_text(str(pid))  # the process with every thread it has or will have
        yield
    finally:
        # Back to the root group (the process may still run), then the empty group can go.
        with contextlib.suppress(OSError):
            for task in (group / "cgroup.procs").read_text().split():
                (root / "cgroup.procs").write_text(task)
            group.rmdir()


def time_limit(seconds: int) -> None:
    """Give up after `seconds` (and on SIGTERM) with an exception, so every `finally` still cleans up."""

    def stop(signum, frame):
        raise TimeoutError(f"benchmark stopped by signal {signum} (time limit {seconds} s or SIGTERM)")

    signal.signal(signal.SIGALRM, stop)
    signal.signal(signal.SIGTERM, stop)
    signal.alarm(seconds)


def table(headers: list[str], rows: list[list]) -> str:
    """A plain text table; numbers are right-aligned."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    numeric = [bool(rows) and all(isinstance(row[i], int | float) for row in rows) for i in range(len(headers))]

    def line(row):
        return "  ".join(
            c.rjust(w) if numeric[i] else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )

    return "\n".join([line(cells[0]), "  ".join("-" * w for w in widths), *map(line, cells[1:])])


def json_argument(parser) -> None:
    """The --json option every benchmark takes: where `write_results` writes the run."""
    parser.add_argument(
        "--json", metavar="PATH", help="write the run's figures here (default: bench/results/<benchmark>.json)"
    )


def git_commit() -> dict:
    """The commit the run measured, and whether the working tree had changes beside it (results aside)."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603, S607
        return done.stdout.strip() if done.returncode == 0 else ""

    changes = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench/results", ":!bench/RESULTS.md")
    return {"commit": git("rev-parse", "--short=7", "HEAD") or "unknown", "uncommitted_changes": bool(changes)}


def machine() -> dict:
    """What the figures depend on besides the code: cores, CPU, Python, and how busy the machine was."""
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "load_at_end": [round(x, 2) for x in os.getloadavg()],
    }


def write_results(
    path: str | None, figures: dict, *, tables: dict[str, tuple[list, list[list]]], notes: list[str] = ()
) -> Path:
    """Write this run as JSON: what ran (the benchmark, the exact command line), when, on which commit and
    machine, the `tables` it printed ({title: (headers, rows)}, as bench/RESULTS.md shows them), any `notes`,
    and all its `figures`. `path` None: bench/results/<benchmark>.json, replacing that benchmark's last run
    there (git keeps the earlier ones); `python -m bench.results` then brings bench/RESULTS.md up to date."""
    main = sys.modules["__main__"]
    name = Path(main.__file__).stem
    record = {
        "benchmark": name,
        "title": " ".join((main.__doc__ or name).strip().split("\n\n")[0].split()),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        **git_commit(),
        "command": shlex.join(sys.orig_argv),
        "machine": machine(),
        "tables": [
            {"title": title, "headers": list(headers), "rows": rows} for title, (headers, rows) in tables.items()
        ],
        "notes": list(notes),
        "figures": figures,
    }
    target = Path(path) if path else RESULTS / f"{name}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(record, indent=2, ensure_ascii=False, default=str) + "\n")
    print(f"\nFigures written to {target}" + ("" if path else " (`python -m bench.results`: into bench/RESULTS.md)"))
    return target


def raise_fd_limit(want: int) -> None:
    """One descriptor per socket on each side: raise the soft limit (children inherit it) up to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want if hard == resource.RLIM_INFINITY else min(want, hard), hard))


def log_problems(path: Path, limit: int = 60) -> list[str]:
    """A server log's tracebacks (whole) and its ERROR/WARNING lines, at most `limit` lines."""
    out, in_traceback = [], False
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("Traceback"):
            in_traceback = True
        if in_traceback or " ERROR " in line or " WARNING " in line:
            out.append(line)
        if in_traceback and line and not line[0].isspace() and not line.startswith("Traceback"):
            in_traceback = False  # the exception's own line ends the traceback
        if len(out) >= limit:
            break
    return out
