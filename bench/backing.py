"""PostgreSQL and Redis for the scale-out runs: given by URL, or throwaway ones started here.

The throwaway ones are started as CI starts them (.ci/run): `initdb` + `pg_ctl` from the newest
/usr/lib/postgresql/*/bin, as the `postgres` user when we are root, trust authentication, a private
port and socket folder; `redis-server` without persistence on a private port. Both live in temporary
folders and are stopped and removed on the way out.

Each app run gets a database of its own, created on that server and dropped afterwards, so a given
--database-url is only used to connect (its role must be allowed to CREATE DATABASE). A given
--redis-url should be a scratch database: its database and the next (the app's cache) are flushed
before each run, so no run sees an earlier one's group members.
"""

import os
import secrets
import shlex
import shutil
import subprocess
import tempfile
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis

from bench import common
from miniapp.lib.env import redis_db_after


def postgres_bin() -> Path | None:
    found = [
        path.parent for path in Path("/usr/lib/postgresql").glob("*/bin/initdb") if (path.parent / "pg_ctl").exists()
    ]
    return max(found, key=lambda path: int(path.parent.name), default=None) if found else None


@contextmanager
def throwaway_postgres():
    """A PostgreSQL cluster on a free port; yields the URL of its `postgres` database."""
    pgbin = postgres_bin()
    root = Path(tempfile.mkdtemp(prefix="miniapp-bench-pg-"))
    as_root = os.geteuid() == 0
    if as_root:  # PostgreSQL refuses to run as root
        shutil.chown(root, "postgres")

    def pg(*args: str) -> None:
        command = [str(pgbin / args[0]), *args[1:]]
        if as_root:
            command = ["su", "postgres", "-c", shlex.join(command)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603
        if done.returncode:
            log = (root / "log").read_text()[-2000:] if (root / "log").exists() else ""
            raise RuntimeError(f"{args[0]} failed:\n{done.stdout}\n{done.stderr}\n{log}")

    port, data = common.free_port(), str(root / "data")
    try:
        pg("initdb", "-D", data, "-A", "trust", "-U", "postgres")
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1"
        pg("pg_ctl", "-D", data, "-l", str(root / "log"), "-w", "-o", options, "start")
        yield f"postgres://postgres@127.0.0.1:{port}/postgres"
    finally:
        if (root / "data" / "postmaster.pid").exists():
            pg("pg_ctl", "-D", data, "-m", "fast", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def throwaway_redis():
    """A Redis without persistence on a free port; yields the URL of its database 0."""
    folder, port = Path(tempfile.mkdtemp(prefix="miniapp-bench-redis-")), common.free_port()
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
               "--dir", str(folder), "--logfile", str(folder / "log")]  # fmt: skip
    process = subprocess.Popen(command)  # noqa: S603
    url = f"redis://127.0.0.1:{port}/0"
    try:
        with redis.Redis.from_url(url) as client:
            for _ in range(100):
                try:
                    client.ping()
                    break
                except redis.ConnectionError:
                    time.sleep(0.1)
            client.ping()
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def services(database_url: str | None, redis_url: str | None):
    """(PostgreSQL server URL, Redis URL, a line saying where they come from), or (None, None, why not)."""
    have_postgres, have_redis = database_url or postgres_bin(), redis_url or shutil.which("redis-server")
    postgres = "from --database-url" if database_url else "throwaway" if have_postgres else "not found"
    where = f"PostgreSQL {postgres}, Redis " + (
        "from --redis-url" if redis_url else "throwaway" if have_redis else "not found"
    )
    if not (have_postgres and have_redis):
        where = where.replace("throwaway", "found")  # but not started: the other is missing
        yield None, None, f"{where}: skipping miniapp on PostgreSQL + Redis and stock Channels on Redis"
        return
    with ExitStack() as stack:
        database_url = database_url or stack.enter_context(throwaway_postgres())
        redis_url = redis_url or stack.enter_context(throwaway_redis())
        yield database_url, redis_url, where


@contextmanager
def fresh_database(server_url: str):
    """A new, empty database on the server of `server_url`, dropped on the way out; yields its URL."""
    name = f"miniapp_bench_{secrets.token_hex(4)}"
    with psycopg.connect(server_url, autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(server_url, autocommit=True) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def flush_redis(url: str) -> None:
    """Empty the channel layer's database and the app's cache (the next one)."""
    for each in (url, redis_db_after(url)):
        with redis.Redis.from_url(each) as client:
            client.flushdb()
