import contextlib
import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from miniapp.asgi import application
from miniapp.realtime.hub import hub

ORIGIN = b"http://127.0.0.1:8000"
HOST = b"127.0.0.1:8000"  # the socket's own origin is this host over http: ORIGIN is same-origin


def signed_in_client(user) -> Client:
    """A browser signed in as `user`: a session of its own (Django's `login`)."""
    client = Client()
    client.force_login(user)
    return client


def session_cookie(user) -> str:
    return signed_in_client(user).cookies["sessionid"].value


class Socket:
    """A WebSocket client on the real ASGI application, with helpers for JSON frames."""

    def __init__(self, communicator):
        self.communicator = communicator

    async def receive(self, timeout: float = 2) -> dict:
        return json.loads(await self.communicator.receive_from(timeout=timeout))

    async def nothing(self, timeout: float = 0.3) -> bool:
        return await self.communicator.receive_nothing(timeout=timeout)

    async def send(self, data) -> None:
        await self.communicator.send_to(text_data=data if isinstance(data, str) else json.dumps(data))

    async def closed(self, timeout: float = 5) -> int:
        """Wait for the server to close the socket; its close code."""
        message = await self.communicator.receive_output(timeout=timeout)
        assert message["type"] == "websocket.close", message
        return message["code"]

    async def close(self) -> None:
        await self.communicator.disconnect()


@pytest.fixture
async def open_socket():
    """`await open_socket(user, after=None, origin=ORIGIN, host=HOST)`: a connected socket, its
    hello read. `cookie=` opens it on that session instead of a new one for `user`; `headers`
    and `scope` add to the handshake's.

    Afterwards, in the test's own event loop, the sockets close and the worker's hub stops,
    so that nothing of this test is left running when the loop ends."""
    sockets = []

    async def connect(
        user=None, *, after=None, origin=ORIGIN, host=HOST, expect_hello=True, cookie=None, headers=(), scope=None
    ):
        path = "/ws/activity/" + (f"?after={after}" if after is not None else "")
        headers = [*([(b"origin", origin)] if origin else []), *([(b"host", host)] if host else []), *headers]
        if user is not None:
            cookie = await database_sync_to_async(session_cookie)(user)
        if cookie is not None:
            headers.append((b"cookie", f"sessionid={cookie}".encode()))
        communicator = WebsocketCommunicator(application, path, headers=headers)
        communicator.scope.update(scope or {})
        connected, _ = await communicator.connect()
        assert connected
        socket = Socket(communicator)
        sockets.append(socket)
        if expect_hello:
            hello = await socket.receive()
            assert hello["type"] == "hello"
            socket.hello = hello
        return socket

    yield connect
    for socket in sockets:
        with contextlib.suppress(Exception):
            await socket.close()
    await hub.stop()


@pytest.fixture
def db_call():
    """Run a sync function (a service) from an async test, in a thread with its own connection."""

    def call(function, *args, **kwargs):
        return database_sync_to_async(function)(*args, **kwargs)

    return call
