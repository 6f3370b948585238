"""`lib.asgi_handler.SyncRequestHandler`: a request's middleware, view and close run in one call
on one of a fixed set of threads, which keep their database connections between requests."""

import asyncio
import threading

import pytest
from django.core import signals
from django.db import connection
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.test import override_settings
from django.urls import path

from miniapp.lib.asgi_handler import SyncRequestHandler

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

seen: list[dict] = []
gate = threading.Event()


def where(request):
    connection.ensure_connection()
    seen.append({"thread": threading.current_thread().name, "connection": id(connection.connection)})
    return JsonResponse({"ok": True})


def wait_for_gate(request):
    seen.append({"thread": threading.current_thread().name, "started": True})
    gate.wait(5)
    return HttpResponse("done")


class Body:
    """A streaming body that says which thread closed it."""

    def __init__(self):
        self.parts = iter([b"a", b"b", b"c"])

    def __iter__(self):
        return self

    def __next__(self):
        return next(self.parts)

    def close(self):
        seen.append({"closed_in": threading.current_thread().name})


def streamed(request):
    seen.append({"thread": threading.current_thread().name})
    return StreamingHttpResponse(Body())


async def asynchronous(request):
    await asyncio.sleep(0)
    return JsonResponse({"async": True})


def broken(request):
    raise RuntimeError("boom")


urlpatterns = [
    path("where/", where),
    path("gate/", wait_for_gate),
    path("stream/", streamed),
    path("async/", asynchronous),
    path("broken/", broken),
]


@pytest.fixture(autouse=True)
def clean():
    seen.clear()
    gate.clear()
    with override_settings(ROOT_URLCONF=__name__):
        yield


def scope(path: str) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8000")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def get(handler: SyncRequestHandler, path: str) -> tuple[int, bytes]:
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    await handler(scope(path), receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


async def test_requests_run_on_the_same_few_threads_and_keep_their_connection():
    handler = SyncRequestHandler(threads=2)
    for _ in range(6):
        assert await get(handler, "/where/") == (200, b'{"ok": true}')
    threads = {entry["thread"] for entry in seen}
    assert threads <= {"http-0_0", "http-1_0"}, threads
    if connection.vendor != "sqlite":
        return  # PostgreSQL: the pool lends a connection per request (CONN_MAX_AGE 0)
    by_thread = {}
    for entry in seen:
        by_thread.setdefault(entry["thread"], set()).add(entry["connection"])
    # One SQLite connection a thread, kept between requests (CONN_MAX_AGE).
    assert all(len(connections) == 1 for connections in by_thread.values()), by_thread


async def test_request_signals_run_in_the_view_thread():
    names = []

    def started(**kwargs):
        names.append(("started", threading.current_thread().name))

    def finished(**kwargs):
        names.append(("finished", threading.current_thread().name))

    signals.request_started.connect(started)
    signals.request_finished.connect(finished)
    try:
        await get(SyncRequestHandler(threads=1), "/where/")
    finally:
        signals.request_started.disconnect(started)
        signals.request_finished.disconnect(finished)
    view_thread = seen[0]["thread"]
    assert names == [("started", view_thread), ("finished", view_thread)]


async def test_a_request_finding_every_thread_busy_gets_one_of_its_own():
    """Not a queue: the busy threads may be waiting on this very request (a sign-in reads the
    embedded provider over HTTP, from the same process)."""
    handler = SyncRequestHandler(threads=1)
    first = asyncio.create_task(get(handler, "/gate/"))
    while not seen:
        await asyncio.sleep(0.01)
    assert await get(handler, "/where/") == (200, b'{"ok": true}')  # while the first waits
    gate.set()
    assert await first == (200, b"done")
    assert [entry["thread"] for entry in seen] == ["http-0_0", "http-extra_0"]
    assert await get(handler, "/where/") == (200, b'{"ok": true}')
    assert seen[-1]["thread"] == "http-0_0"  # the kept thread again


@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators")
async def test_a_streaming_response_is_sent_whole_and_closed_in_its_thread():
    assert await get(SyncRequestHandler(threads=2), "/stream/") == (200, b"abc")
    assert seen[-1] == {"closed_in": seen[0]["thread"]}


async def test_an_async_view_still_works():
    assert await get(SyncRequestHandler(threads=1), "/async/") == (200, b'{"async": true}')


async def test_an_error_answers_500_and_frees_the_thread():
    handler = SyncRequestHandler(threads=1)
    status, _ = await get(handler, "/broken/")
    assert status == 500
    assert await get(handler, "/where/") == (200, b'{"ok": true}')
