"""Django's ASGI handler, with each request's sync work in one trip to a long-lived thread.

Django's own `ASGIHandler` runs the middleware stack in async mode: with sync middleware and
sync views (all of ours) a request crosses between the event loop and a thread five times
(`request_started`, the middleware, back to the loop for the async core, the view,
`response.close()`), and each request gets a thread of its own (`ThreadSensitiveContext`),
started for it and joined after it, so its database connection is opened and closed with it.
Measured through Daphne on these machines (bench/http_cycle.py, SQLite): a bare ASGI answer
0.4 ms; `GET /api/me/` 8.6 ms at p50 through Django's handler, 4.6 ms through this one, 1.6 ms
for the same request in-process.

`SyncRequestHandler` loads the middleware in sync mode, as under WSGI, and runs
`request_started`, the middleware, the view and, for a response in memory, `response.close()`
(`request_finished`: the connections closed or kept as `CONN_MAX_AGE` says) in one call, on
one of `HTTP_THREADS` threads that live as long as the process. A thread keeps its connection
between requests where the settings allow it (SQLite), or borrows one from the pool
(PostgreSQL). When all of them are busy a request gets a thread of its own, as Django gives
every request, closed with it: never a queue, since a request may wait on another request to
this same process (a sign-in reads the embedded provider, `mockwx`, over HTTP), and a fixed
set of threads all waiting so would never be freed. Asynchronous views still work: Django
runs them through `async_to_sync`, back on the event loop.

A streaming response (media files) is sent from the loop as Django sends it, and closed in the
thread that made it. Django's check for a client that hung up while the view ran is left out:
it cancelled the task awaiting a sync view, which went on in its thread regardless.
"""

import asyncio
import contextlib
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.base import BaseHandler
from django.db import close_old_connections, connections
from django.http import FileResponse
from django.urls import set_script_prefix


class SyncRequestHandler(ASGIHandler):
    def __init__(self, *, threads: int):
        BaseHandler.__init__(self)
        self.load_middleware(is_async=False)
        # Single-thread executors (each starts its thread when first used).
        self.idle = [ThreadPoolExecutor(1, thread_name_prefix=f"http-{n}") for n in range(threads)]

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        kept = bool(self.idle)
        thread = self.idle.pop() if kept else ThreadPoolExecutor(1, thread_name_prefix="http-extra")
        try:
            # Every thread-sensitive call of this request (ours below, Django's for a streaming
            # body, those inside the view) runs on this request's thread.
            async with ThreadSensitiveContext(executor=thread):
                await self._handle(scope, body_file, send)
                if not kept:
                    await sync_to_async(connections.close_all)()
        finally:
            body_file.close()
            if kept:
                self.idle.append(thread)
            else:
                thread.shutdown(wait=False)

    async def _handle(self, scope, body_file, send):
        response = await sync_to_async(self._respond)(scope, body_file)
        with contextlib.suppress(asyncio.CancelledError):  # the client went away
            await self.send_response(response, send)
        if response.streaming:
            await sync_to_async(response.close)()

    def _respond(self, scope, body_file):
        """The response, made in this request's thread (a response in memory also closed)."""
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, error_response = self.create_request(scope, body_file)
        response = error_response or self.get_response(request)
        response._handler_class = self.__class__
        if isinstance(response, FileResponse):
            response.block_size = self.chunk_size  # as ASGIHandler: the server chunks
        if response.streaming:
            # Its body is read later; its connections go back now (to the pool, on PostgreSQL).
            close_old_connections()
        else:
            response.close()
        return response
