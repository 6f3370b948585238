"""`events.EventsAfterResponse`: the events an HTTP request commits go to the event streams once
its response is sent (the user's own answer first), and still go when no response is sent."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.middleware.csrf import _get_new_csrf_string

from miniapp.asgi import application
from miniapp.realtime import events
from tests.fixtures.factories import make_video
from tests.fixtures.personas import session_cookie
from tests.fixtures.sockets import until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.fixture
def order(monkeypatch):
    """What went, in order: the response's messages and "published" for each add to the streams."""
    seen = []
    bus = events.bus()
    real_add, real_add_now = bus.add, bus.add_now

    async def add(entries):
        seen.append("published")
        await real_add(entries)

    def add_now(entries):
        seen.append("published")
        real_add_now(entries)

    monkeypatch.setattr(bus, "add", add)
    monkeypatch.setattr(bus, "add_now", add_now)
    return seen


def http_scope(method: str, path: str, *, cookie: str, csrf: str) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1:8000"),
            (b"cookie", f"sessionid={cookie}; csrftoken={csrf}".encode()),
            (b"x-csrftoken", csrf.encode()),
            (b"content-type", b"application/json"),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def call(scope: dict, body: bytes, sent: list, *, hang_up: bool = False) -> None:
    """Run one HTTP request through the ASGI application, as a server would. `hang_up`: the
    client leaves as soon as it has the answer."""
    bodies = [{"type": "http.request", "body": body, "more_body": False}]
    answered = asyncio.Event()

    async def receive():
        if bodies:
            return bodies.pop()
        if hang_up:
            await answered.wait()
            return {"type": "http.disconnect"}
        await asyncio.Event().wait()  # the client stays: Django's disconnect listener waits

    async def send(message):
        sent.append(message["type"])
        if message["type"] == "http.response.body" and not message.get("more_body"):
            answered.set()

    await application(scope, receive, send)


async def test_a_like_reaches_friends_after_the_likers_response(users, open_socket, order):
    video = await database_sync_to_async(make_video)(users["carol"], title="葡萄")
    bob = await open_socket(users["bob"])  # alice's friend
    cookie = await database_sync_to_async(session_cookie)(users["alice"])
    scope = http_scope("POST", f"/api/videos/{video.pk}/like/", cookie=cookie, csrf=_get_new_csrf_string())

    await call(scope, b"", order)

    event = await bob.receive()
    assert order == ["http.response.start", "http.response.body", "published"]
    assert event["type"] == "activity" and event["verb"] == "like" and event["video"]["id"] == video.pk


async def test_a_client_that_hangs_up_at_once_does_not_cancel_the_publish(users, open_socket, monkeypatch):
    """Django cancels a request's task when its client leaves; the publish, awaiting Redis a
    round trip away, is not part of it."""
    bus = events.bus()
    real = bus.add

    async def far_away(entries):
        await asyncio.sleep(0.1)
        await real(entries)

    monkeypatch.setattr(bus, "add", far_away)
    video = await database_sync_to_async(make_video)(users["carol"], title="葡萄")
    bob = await open_socket(users["bob"])
    cookie = await database_sync_to_async(session_cookie)(users["alice"])
    scope = http_scope("POST", f"/api/videos/{video.pk}/like/", cookie=cookie, csrf=_get_new_csrf_string())

    await call(scope, b"", [], hang_up=True)

    event = await bob.receive()
    assert event["verb"] == "like" and event["video"]["id"] == video.pk


async def test_held_events_still_go_when_the_request_ends_without_a_response(order):
    """A view that commits and then the request ends with no body sent (here: the app fails
    after the commit; in life also a client gone): the events go at the end all the same, and
    what commits after that goes at once."""
    event = {"type": "video_gone", "video": 1}

    async def app(scope, receive, send):
        await sync_to_async(events.publish)([([1], event)])
        assert order == []  # held: no response yet
        raise RuntimeError("the view failed after its commit")

    with pytest.raises(RuntimeError):
        await events.EventsAfterResponse(app)({"type": "http"}, None, lambda message: None)
    await until(lambda: order == ["published"])

    held = events._Held()
    assert held.release() == []
    assert not held.hold([([1], event)])  # released: the caller publishes at once


async def test_outside_a_request_events_go_at_once(order):
    await sync_to_async(events.publish)([([1], {"type": "video_gone", "video": 1})])
    assert order == ["published"]
