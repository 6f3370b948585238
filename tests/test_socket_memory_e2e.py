"""A closed socket leaves nothing behind in the worker: reference counting alone frees it.

The server is the real stack under Daphne with the cyclic collector off (tests/socket_memory_app.py), so a
connection still in memory once Daphne has let go of it is held by a reference cycle. With asgi.py's collector
thresholds such cycles wait for a full collection that practically never comes: the worker grew with every
reconnect (realtime.socket_cycles; bench/soak.py measures it at scale). Counting objects, not memory,
makes the test exact.
"""

import socket
import time

import pytest
import requests
from django.contrib.auth import get_user_model
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.fixtures.personas import api_session
from tests.fixtures.servers import start_server, stop_server

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ROUNDS = 5  # of each way a socket ends
RELEASE_SECONDS = 15  # Daphne's checker lets go of a closed connection within a second or two


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, media_dir, tmp_path_factory):
    log = tmp_path_factory.mktemp("logs") / "daphne.log"
    server = start_server(media_root=media_dir, log=log, application="tests.socket_memory_app:application")
    yield server
    stop_server(server)


def counts(server) -> dict[str, int]:
    return requests.get(f"{server.url}/test/connections/", timeout=10).json()


def open_socket(server, cookie: str | None = None, origin: str | None = None):
    headers = {"Cookie": cookie} if cookie else None
    uri = server.url.replace("http", "ws", 1) + "/ws/activity/"
    return connect(
        uri, origin=origin or server.url, additional_headers=headers, open_timeout=10, close_timeout=5, legacy=True
    )


def closed_by_server(server, **options) -> int:
    with open_socket(server, **options) as ws, pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=10)
    return closed.value.rcvd.code


def test_closed_sockets_are_freed_without_the_collector(server):
    user = get_user_model().objects.create(username="phone")
    cookie = f"sessionid={api_session(user).cookies['sessionid']}"

    # The count sees open sockets (so that zero below means freed, not missed).
    opened = [open_socket(server, cookie) for _ in range(3)]
    for ws in opened:
        assert '"hello"' in ws.recv(timeout=10)
    assert counts(server)["sockets"] >= 3
    for ws in opened:
        ws.close()

    for _ in range(ROUNDS):
        with open_socket(server, cookie) as ws:  # the client closes (a close frame)
            assert '"hello"' in ws.recv(timeout=10)
        ws = open_socket(server, cookie)  # the network drops it (no close frame)
        assert '"hello"' in ws.recv(timeout=10)
        ws.socket.shutdown(socket.SHUT_RDWR)
        ws.close()
        assert closed_by_server(server) == 4401  # signed out: the server closes
        assert closed_by_server(server, cookie=cookie, origin="http://elsewhere.example") == 4403

    deadline = time.monotonic() + RELEASE_SECONDS
    while (found := counts(server))["sockets"] or found["upgraded_requests"]:
        if time.monotonic() > deadline:
            pytest.fail(f"{4 * ROUNDS + 3} sockets opened and closed; still in memory: {found}")
        time.sleep(0.2)
