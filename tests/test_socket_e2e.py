"""The activity socket on a real Daphne: what autobahn lets through (close codes, frames),
and the Origin as Daphne's handshake carries it."""

import time
from contextlib import ExitStack

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.conftest import api_session

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def server(daphne_server, users):
    """The app on Daphne, the demo users in its database, and what it logs from now on."""
    daphne_server.log_from = daphne_server.log.stat().st_size
    return daphne_server


def new_log(server) -> str:
    with open(server.log, "rb") as log:
        log.seek(server.log_from)
        return log.read().decode(errors="replace")


@pytest.fixture
def open_socket():
    """`open_socket(server, session, origin=None)`: a browser's socket, with its page's Origin
    (the server's own by default) and the session's cookie; closed after the test."""
    with ExitStack() as sockets:

        def open_one(server, session, *, origin: str | None = None):
            return sockets.enter_context(
                connect(
                    server.url.replace("http://", "ws://") + "/ws/activity/",
                    origin=origin or server.url,
                    additional_headers={"Cookie": f"sessionid={session.cookies['sessionid']}"},
                    open_timeout=10,
                )
            )

        yield open_one


def close_code(socket, timeout: float = 5) -> int:
    """Read until the server closes the socket; its close code."""
    deadline = time.monotonic() + timeout
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            socket.recv(timeout=max(deadline - time.monotonic(), 0.01))
    return closed.value.rcvd.code


def test_a_binary_frame_closes_with_4003_and_logs_no_error(server, users, open_socket):
    socket = open_socket(server, api_session(users["bob"]))
    assert '"hello"' in socket.recv(timeout=5)
    socket.send(b"\x00\x01")
    assert close_code(socket) == 4003
    assert "ERROR" not in new_log(server) and "Traceback" not in new_log(server)


def test_text_frames_nested_too_deep_are_ignored(server, users, open_socket):
    socket = open_socket(server, api_session(users["bob"]))
    assert '"hello"' in socket.recv(timeout=5)
    socket.send("[" * 100_000)
    socket.send('{"a": ' * 50_000 + "1" + "}" * 50_000)
    socket.send('{"type": "ping"}')
    assert socket.recv(timeout=5) == '{"type": "pong"}'
    assert "ERROR" not in new_log(server) and "Traceback" not in new_log(server)


@pytest.mark.parametrize("origin", ["http://127.0.0.1:1234", "https://{host}", "http://localhost:{port}"])
def test_an_origin_of_another_scheme_host_or_port_is_refused(server, users, open_socket, origin):
    host = server.url.removeprefix("http://")
    origin = origin.format(host=host, port=host.rsplit(":", 1)[1])
    socket = open_socket(server, api_session(users["bob"]), origin=origin)
    assert close_code(socket) == 4403
