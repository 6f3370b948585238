"""The activity socket on a real Daphne: what autobahn lets through (close codes, frames),
the Origin as Daphne's handshake carries it, and a sign-out reaching the socket from another
worker (with REDIS_URL, a second Daphne on the same Redis; without, the same one)."""

import os
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import pytest
from django.db import connection
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.fixtures.personas import api_session
from tests.fixtures.servers import signed_in_page

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


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


def test_a_sign_out_on_another_worker_closes_the_socket(server, other_worker, users, open_socket):
    phone, laptop = api_session(users["bob"]), api_session(users["bob"])
    on_phone, on_laptop = open_socket(server, phone), open_socket(server, laptop)
    for socket in on_phone, on_laptop:
        assert '"hello"' in socket.recv(timeout=5)

    started = time.monotonic()
    response = phone.post(f"{other_worker.url}/logout/", allow_redirects=False, timeout=10)
    assert response.status_code == 302
    assert close_code(on_phone) == 4401
    print(f"closed {time.monotonic() - started:.3f} s after the sign-out was posted")
    # The same session cannot open it again; bob's laptop is still signed in.
    assert close_code(open_socket(server, phone)) == 4401
    on_laptop.send('{"type": "ping"}')
    assert on_laptop.recv(timeout=5) == '{"type": "pong"}'


@pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="a ban decided in this process reaches Daphne through Redis"
)
def test_a_ban_decided_elsewhere_closes_the_socket(server, users, open_socket):
    from miniapp.moderation.services import user_ban

    def ban_as_a_moderators_request_would():
        # In a thread of its own, as an admin request runs: this test's thread may hold the
        # event loop of a browser test that ran before it, and a sync service that publishes
        # cannot run on a thread with a running loop.
        try:
            user_ban(user=users["bob"], moderator=None, reason="spam")
        finally:
            connection.close()

    socket = open_socket(server, api_session(users["bob"]))
    assert '"hello"' in socket.recv(timeout=5)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(ban_as_a_moderators_request_would).result()
    assert close_code(socket) == 4401


def test_signing_out_in_one_tab_stops_the_socket_in_the_others(site, phone):
    context = phone()
    friends = signed_in_page(context, site, "bob", "/friends/")
    friends.wait_for_function("document.documentElement.dataset.socket === 'open'")
    me = context.new_page()
    me.goto(f"{site}/me/")
    me.locator("form[action='/logout/'] button").click()
    me.wait_for_url(f"{site}/")
    # Closed with 4401, tried once more (signed out: 4401 again), then left alone.
    friends.wait_for_function("document.documentElement.dataset.socket === 'refused'", timeout=10_000)


def test_a_password_change_in_one_tab_leaves_the_others_signed_in(site, phone, django_user_model):
    """Django keeps the session that changed the password, under a new key: the other tab's
    socket, opened on the old key, is closed (4401), opens again on the new one and stays."""
    password = "an old password, long enough"
    django_user_model.objects.create_user(username="mod", password=password, is_staff=True)
    context = phone()
    friends = context.new_page()
    friends.goto(f"{site}/admin/login/?next=/friends/")
    friends.fill("#id_username", "mod")
    friends.fill("#id_password", password)
    friends.locator("input[type=submit]").click()
    friends.wait_for_url(f"{site}/friends/")
    friends.wait_for_function("document.documentElement.dataset.socket === 'open'")

    admin = context.new_page()
    admin.goto(f"{site}/admin/password_change/")
    admin.fill("#id_old_password", password)
    admin.fill("#id_new_password1", "a brand new password 2026")
    admin.fill("#id_new_password2", "a brand new password 2026")
    with friends.expect_websocket(timeout=10_000) as reopened:
        admin.locator("input[type=submit]").click()
        admin.wait_for_url(f"{site}/admin/password_change/done/")
    reopened.value.wait_for_event("framereceived")  # its hello
    friends.wait_for_function("document.documentElement.dataset.socket === 'open'")
    assert not reopened.value.is_closed()
