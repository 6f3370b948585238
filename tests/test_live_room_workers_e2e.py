"""One live room watched through two Daphne workers on the same database and Redis (their rooms
follow the live's topic on its event streams): one total, one viewer count and one comment stream
on both; a worker killed mid-live loses no acknowledged tap, its
viewer reconnects to the other (through a proxy standing for the load balancer) and gets the
exact total, and the dead worker's viewers stop counting."""

import json
import time
import uuid
from urllib.parse import urlsplit

import pytest
from websockets.sync.client import connect

from tests.faults import Proxy
from tests.fixtures.personas import api_session
from tests.fixtures.servers import start_server, stop_server

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def on_air(site):
    from django.core.management import call_command

    from miniapp.lives.models import Live

    call_command("seed_demo", verbosity=0)
    return Live.objects.get(status=Live.Status.LIVE)


class Viewer:
    """A signed-out room socket, reading frames as they come."""

    def __init__(self, base_url: str, live_id: int):
        self.base_url, self.live_id = base_url, live_id
        self.open()

    def open(self, after: int | None = None) -> None:
        query = f"?after={after}" if after is not None else ""
        address = f"ws://{urlsplit(self.base_url).netloc}/ws/live/{self.live_id}/{query}"
        self.socket = connect(address, origin=self.base_url, open_timeout=10).__enter__()
        self.hello = json.loads(self.socket.recv(timeout=10))
        assert self.hello["type"] == "hello"
        self.likes, self.viewers = self.hello["likes"], self.hello["viewers"]

    def read(self, deadline: float) -> dict:
        frame = json.loads(self.socket.recv(timeout=max(0.01, deadline - time.monotonic())))
        if frame["type"] == "room":
            self.likes, self.viewers = frame["likes"], frame["viewers"]
        return frame

    def until(self, condition, *, seconds: float = 10) -> dict:
        """Read frames until `condition(frame)`; that frame."""
        deadline = time.monotonic() + seconds
        while not condition(frame := self.read(deadline)):
            pass
        return frame

    def shows(self, *, seconds: float = 10, **state) -> None:
        """Read frames until this socket was told these `likes` and `viewers` (maybe already)."""
        deadline = time.monotonic() + seconds
        while any(getattr(self, name) != value for name, value in state.items()):
            self.read(deadline)


def tap(session, base_url: str, live_id: int, taps: int) -> int:
    """Send a batch; the taps counted (acknowledged)."""
    answer = session.post(f"{base_url}/api/lives/{live_id}/likes/", json={"taps": taps, "batch": uuid.uuid4().hex})
    assert answer.status_code == 200, answer.text
    return answer.json()["counted"]


def test_two_workers_show_one_room_and_a_killed_worker_loses_nothing(on_air, redis, media_dir, tmp_path):
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    bob, erin = (api_session(users.get(username=name)) for name in ("bob", "erin"))
    env = {"REDIS_URL": redis.url}
    worker_a = start_server(media_root=media_dir, log=tmp_path / "a.log", extra_env=env)
    worker_b = start_server(media_root=media_dir, log=tmp_path / "b.log", extra_env=env)
    site = worker_a.url
    proxy = Proxy(target=urlsplit(worker_b.url).port)  # the load balancer in front of B
    try:
        on_a, on_b = Viewer(site, on_air.pk), Viewer(proxy.url, on_air.pk)
        for viewer in (on_a, on_b):  # each worker says how many it holds; both count both
            viewer.shows(viewers=2)

        acknowledged = 0
        for n in range(6):  # taps through both workers, from two people
            acknowledged += tap(bob if n % 2 else erin, site if n % 3 else worker_b.url, on_air.pk, 3)
        for viewer in (on_a, on_b):
            viewer.shows(likes=acknowledged)

        said = bob.post(f"{worker_b.url}/api/lives/{on_air.pk}/comments/", json={"text": "两边都看得到"})
        assert said.status_code == 201
        for viewer in (on_a, on_b):
            assert viewer.until(lambda frame: frame["type"] == "comment")["text"] == "两边都看得到"

        worker_b.process.kill()  # mid-live, no goodbye
        proxy.target = urlsplit(site).port
        acknowledged += tap(erin, site, on_air.pk, 4)  # while B's viewer is away
        on_b.open(after=said.json()["id"])  # the page reconnects, through the balancer, to A
        on_b.shows(likes=acknowledged, seconds=2)  # nothing acknowledged was lost (hello is a tick old at most)
        assert on_b.hello["comments"] == []  # and it missed no comment
        # A holds both viewers now, and B's last word still counts one, until PRESENCE_STALE.
        on_a.shows(viewers=3)
        on_a.shows(viewers=2, seconds=15)
        assert on_a.likes == acknowledged

        from miniapp.lives.models import Live

        assert Live.objects.get(pk=on_air.pk).likes == acknowledged
    finally:
        proxy.close()
        for worker in (worker_a, worker_b):
            if worker.process.poll() is None:
                stop_server(worker)


def test_redis_restarted_mid_live_loses_no_comment_and_no_tap(on_air, redis, media_dir, tmp_path):
    """The rooms follow the live's topic on Redis. While it is away they read the record each
    second, so what is said meanwhile still shows; it comes back empty (another server: the hubs
    say so, and the rooms read what they may have missed), and each comment shows once."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    bob, erin = (api_session(users.get(username=name)) for name in ("bob", "erin"))
    env = {"REDIS_URL": redis.url}
    worker_a = start_server(media_root=media_dir, log=tmp_path / "a.log", extra_env=env)
    worker_b = start_server(media_root=media_dir, log=tmp_path / "b.log", extra_env=env)
    try:
        on_a, on_b = Viewer(worker_a.url, on_air.pk), Viewer(worker_b.url, on_air.pk)
        said, acknowledged = [], on_a.likes

        def comment(base_url: str, text: str) -> int:
            answer = bob.post(f"{base_url}/api/lives/{on_air.pk}/comments/", json={"text": text})
            assert answer.status_code == 201, answer.text
            said.append(answer.json()["id"])
            return said[-1]

        comment(worker_a.url, "雷迪斯在")
        redis.stop()
        comment(worker_b.url, "雷迪斯不在")  # its publish fails: the rooms find it in the record
        acknowledged += tap(erin, worker_a.url, on_air.pk, 5)
        for viewer in (on_a, on_b):
            viewer.until(lambda frame: frame["type"] == "comment" and frame["id"] == said[-1])
            viewer.shows(likes=acknowledged)
        redis.start()  # empty: another server
        time.sleep(1.5)  # the hubs find it, and say so
        comment(worker_b.url, "雷迪斯回来了")
        acknowledged += tap(erin, worker_b.url, on_air.pk, 3)
        for viewer in (on_a, on_b):
            seen = []
            deadline = time.monotonic() + 10
            while said[-1] not in seen or viewer.likes != acknowledged:
                frame = viewer.read(deadline)
                if frame["type"] == "comment":
                    seen.append(frame["id"])
            end = time.monotonic() + 1.5  # room for a duplicate, if one were coming
            while time.monotonic() < end:
                try:
                    frame = viewer.read(end)
                except TimeoutError:
                    break
                if frame["type"] == "comment":
                    seen.append(frame["id"])
            assert said[-1] in seen and len(seen) == len(set(seen))  # each once
    finally:
        for worker in (worker_a, worker_b):
            if worker.process.poll() is None:
                stop_server(worker)
