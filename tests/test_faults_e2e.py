"""Faults, each on real parts: Redis restarted while users like, a worker killed while its
sockets stream, the database out of reach for a moment, and many writers at once.

Each test runs its own Daphne workers (and Redis, and proxies) so that it can break them;
they share the suite's test database.
"""

import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
import requests
from django.contrib.auth import get_user_model
from django.db import connection

from miniapp.engagement.models import Activity, Like, View
from miniapp.videos.models import Video
from tests.faults import Proxy, RedisServer
from tests.fixtures.factories import make_video
from tests.fixtures.personas import api_session, signin, with_csrf
from tests.fixtures.servers import screenshot, signed_in_page, start_server, stop_server

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# How long the database stays out of reach in the PostgreSQL outage test.
OUTAGE_SECONDS = 6
FRIENDS_PAGE_OPEN = "document.documentElement.dataset.socket === 'open'"


@pytest.fixture
def workers(media_dir, tmp_path):
    """`workers(name, **env)`: one more Daphne worker on the test database."""
    started = []

    def start(name: str, **env: str):
        server = start_server(media_root=media_dir, log=tmp_path / f"{name}.log", extra_env=env)
        server.port = urlsplit(server.url).port
        started.append(server)
        return server

    yield start
    for server in started:
        if server.process.poll() is None:
            stop_server(server)


@pytest.fixture
def maker(db):
    return get_user_model().objects.create(username="maker")


def signed_in_session(site: str, nickname: str) -> requests.Session:
    """A requests session signed in through the provider, with the CSRF header the pages send."""
    session = requests.Session()
    assert signin(session, site, nickname).ok
    return with_csrf(session)


def like(session, base_url: str, video: Video):
    return session.post(f"{base_url}/api/videos/{video.pk}/like/", timeout=30)


def shown(page, video: Video) -> int:
    return page.locator(".activity", has_text=video.title).count()


def wait_shown(page, video: Video) -> None:
    page.locator(".activity", has_text=video.title).first.wait_for(timeout=20_000)


def test_redis_restarted_while_users_like(site, redis, workers, phone, maker):
    worker = workers("w", REDIS_URL=redis.url)
    videos = [make_video(maker, title=f"麦田{i}") for i in range(4)]
    bob = signed_in_page(phone(), site, "bob", "/me/")
    bob.goto(f"{worker.url}/friends/")
    bob.wait_for_function(FRIENDS_PAGE_OPEN)
    alice = signed_in_session(site, "alice")

    assert like(alice, worker.url, videos[0]).status_code == 200
    wait_shown(bob, videos[0])

    redis.stop()
    # Likes are still taken and stored while Redis is away (the rate limit's counter
    # lives there too: it lets them through).
    for video in videos[1:3]:
        response = like(alice, worker.url, video)
        assert response.status_code == 200, response.text
    assert Like.objects.filter(user__username="alice", video__in=videos[1:3]).count() == 2

    redis.start()  # empty: it forgot the broadcast group and everything queued
    # The worker's hub finds Redis again, rejoins, and its sockets catch up.
    wait_shown(bob, videos[1])
    wait_shown(bob, videos[2])
    assert like(alice, worker.url, videos[3]).status_code == 200
    wait_shown(bob, videos[3])  # and live again
    bob.wait_for_timeout(500)  # room for a duplicate to show, if one were coming
    assert [shown(bob, video) for video in videos] == [1, 1, 1, 1]
    assert bob.evaluate("document.documentElement.dataset.socket") == "open"
    screenshot(bob, "fault-redis-restart-friends-zh-CN")


def test_a_shard_node_restarted_costs_only_its_own_users_a_catch_up(site, redis, workers, phone, maker, tmp_path):
    """The streams over two Redis servers (REALTIME_STREAM_URLS): bob's shard on the first,
    carol's on the second. The second goes away: bob still hears alice's like at once; carol
    hears it once her node is back (restarted empty), from the database."""
    videos = [make_video(maker, title=f"稻田{i}") for i in range(3)]
    bob = signed_in_page(phone(), site, "bob", "/me/")
    carol = signed_in_page(phone(), site, "carol", "/me/")
    alice = signed_in_session(site, "alice")
    users = get_user_model().objects
    bob_pk, carol_pk = users.get(username="bob").pk, users.get(username="carol").pk
    # A shard count that puts bob's stream on the first node and carol's on the second.
    shards = next(n for n in range(2, 40) if bob_pk % n % 2 == 0 and carol_pk % n % 2 == 1)
    folder = tmp_path / "second-node"
    folder.mkdir()
    second = RedisServer(folder)
    second.start()
    try:
        worker = workers(
            "w", REDIS_URL=redis.url, REALTIME_STREAM_URLS=f"{redis.url},{second.url}", REALTIME_SHARDS=str(shards)
        )
        for page in (bob, carol):
            page.goto(f"{worker.url}/friends/")
            page.wait_for_function(FRIENDS_PAGE_OPEN)
        assert like(alice, worker.url, videos[0]).status_code == 200
        wait_shown(bob, videos[0])
        wait_shown(carol, videos[0])

        second.stop()
        assert like(alice, worker.url, videos[1]).status_code == 200  # taken and stored
        wait_shown(bob, videos[1])  # his node answers: live as ever
        carol.wait_for_timeout(1500)
        assert shown(carol, videos[1]) == 0  # hers does not: it waits

        second.start()  # empty: what it held is gone
        wait_shown(carol, videos[1])  # her socket caught up from the database
        assert like(alice, worker.url, videos[2]).status_code == 200
        wait_shown(bob, videos[2])
        wait_shown(carol, videos[2])  # and live again
        carol.wait_for_timeout(500)  # room for a duplicate to show, if one were coming
        for page in (bob, carol):
            assert [shown(page, video) for video in videos] == [1, 1, 1]
            assert page.evaluate("document.documentElement.dataset.socket") == "open"
    finally:
        second.stop()


def test_a_worker_killed_mid_stream_its_sockets_resume_on_another(site, redis, workers, phone, maker):
    worker_a = workers("a", REDIS_URL=redis.url)
    worker_b = workers("b", REDIS_URL=redis.url)
    proxy = Proxy(target=worker_a.port)  # the load balancer in front of both
    videos = [make_video(maker, title=f"稻田{i}") for i in range(3)]
    try:
        bob = signed_in_page(phone(), site, "bob", "/me/")
        bob.goto(f"{proxy.url}/friends/")
        bob.wait_for_function(FRIENDS_PAGE_OPEN)
        alice = signed_in_session(site, "alice")

        assert like(alice, worker_b.url, videos[0]).status_code == 200  # B to A through Redis
        wait_shown(bob, videos[0])

        worker_a.process.kill()  # mid-stream: no goodbye to its sockets
        proxy.target = worker_b.port  # the balancer sends new connections to B
        assert like(alice, worker_b.url, videos[1]).status_code == 200  # while bob is away
        wait_shown(bob, videos[1])  # replayed when his socket resumed on B
        assert like(alice, worker_b.url, videos[2]).status_code == 200
        wait_shown(bob, videos[2])  # and live from B
        bob.wait_for_timeout(500)
        assert [shown(bob, video) for video in videos] == [1, 1, 1]
        assert worker_b.port in proxy.routed  # the socket did move to B
    finally:
        proxy.close()


def db_proxy_url(proxy: Proxy) -> str:
    settings = connection.settings_dict
    return f"postgres://{settings['USER']}@127.0.0.1:{proxy.port}/{settings['NAME']}"


def assert_unavailable(response) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "unavailable"
    assert response.headers["Retry-After"] == "5"


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL only: a proxy between app and server")
def test_postgresql_out_of_reach_gives_503_and_nothing_half_written(site, workers, maker):
    db_port = int(connection.settings_dict["PORT"] or 5432)
    proxy = Proxy(target=db_port)
    try:
        worker = workers("w", DATABASE_URL=db_proxy_url(proxy), DB_POOL_TIMEOUT="2")
        first, second = make_video(maker), make_video(maker)
        alice = signed_in_session(site, "alice")
        assert like(alice, worker.url, first).status_code == 200

        # The connection drops as the like commits: the server never sees the COMMIT.
        proxy.drop_on(b"COMMIT")
        assert_unavailable(like(alice, worker.url, second))
        assert proxy.sprung.is_set()
        assert not Like.objects.filter(video=second).exists()
        assert not Activity.objects.filter(video=second).exists()
        assert Video.objects.get(pk=second.pk).like_count == 0

        # The database out of reach altogether: every request a clear 503, pages too.
        proxy.cut()
        assert_unavailable(like(alice, worker.url, second))
        page = alice.get(f"{worker.url}/friends/", timeout=30)
        assert page.status_code == 503 and page.headers["Retry-After"] == "5"

        # Out long enough that psycopg's reconnection backoff (1, 2, 4, 8 s...) would
        # leave the worker without a connection well after the database is back.
        time.sleep(OUTAGE_SECONDS)

        # Back: the same request does the whole thing, once, within DB_POOL_TIMEOUT.
        proxy.restore()
        assert like(alice, worker.url, second).status_code == 200
        assert Like.objects.filter(video=second).count() == 1
        assert Activity.objects.filter(video=second, verb=Activity.Verb.LIKE).count() == 1
        assert Video.objects.get(pk=second.pk).like_count == 1
    finally:
        proxy.close()


@pytest.mark.skipif("connection.vendor != 'sqlite'", reason="SQLite only: its write lock held elsewhere")
def test_sqlite_write_lock_held_too_long_gives_503_and_nothing_half_written(site, workers, maker):
    worker = workers("w", SQLITE_TIMEOUT="1")
    video = make_video(maker)
    alice = signed_in_session(site, "alice")
    holder = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another program holds the write lock
        assert_unavailable(like(alice, worker.url, video))
    finally:
        holder.rollback()
        holder.close()
    assert not Like.objects.filter(video=video).exists()
    assert like(alice, worker.url, video).status_code == 200
    assert Video.objects.get(pk=video.pk).like_count == 1


def test_many_writers_at_once_at_the_default_settings(site, workers, maker):
    """Likes, unlikes and views from many users at once: no "database is locked", no 500."""
    worker = workers("w")  # the default settings: SQLite's busy timeout, or the pool
    videos = [make_video(maker) for _ in range(3)]
    people = get_user_model().objects.bulk_create([get_user_model()(username=f"writer{i:02d}") for i in range(16)])
    sessions = [api_session(person) for person in people]

    def write(session) -> list[int]:
        statuses = []
        for video in videos:
            base = f"{worker.url}/api/videos/{video.pk}"
            statuses.append(session.post(f"{base}/like/", timeout=60).status_code)
            statuses.append(session.post(f"{base}/views/", json={"seconds": 2.5}, timeout=60).status_code)
        statuses.append(session.delete(f"{worker.url}/api/videos/{videos[0].pk}/like/", timeout=60).status_code)
        return statuses

    with ThreadPoolExecutor(max_workers=len(sessions)) as pool:
        statuses = [status for result in pool.map(write, sessions) for status in result]
    assert set(statuses) <= {200, 201, 204}, sorted(set(statuses))
    for video, expected in zip(videos, [0, 16, 16], strict=True):
        assert Like.objects.filter(video=video).count() == expected
        assert Video.objects.get(pk=video.pk).like_count == expected
    assert View.objects.filter(video__in=videos).count() == 16 * 3
