"""The socket's Origin check is Django's CSRF Origin check: scheme, host and port must be the
socket's own (ws is http, wss https; the Host header checked against ALLOWED_HOSTS) or one of
CSRF_TRUSTED_ORIGINS. An Origin an HTTP write is refused for (403) is refused on the socket (4403)."""

import pytest
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client

from tests.fixtures.factories import make_video

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

FORBIDDEN_ORIGIN = 4403


async def outcome(socket) -> str:
    """ "hello" when the socket was let in, else its close code."""
    message = await socket.communicator.receive_output(timeout=2)
    if message["type"] == "websocket.close":
        return message["code"]
    assert message["type"] == "websocket.send", message
    return "hello"


def http_write(user, video, origin: str, *, host: str = "127.0.0.1:8000", secure: bool = False) -> int:
    """A like with the CSRF cookie and header right, from `origin`: the status."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    token = _get_new_csrf_string()
    client.cookies["csrftoken"] = token
    response = client.post(
        f"/api/videos/{video.pk}/like/", headers={"origin": origin, "x-csrftoken": token, "host": host}, secure=secure
    )
    return response.status_code


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("http://127.0.0.1:8000", True),
        ("http://127.0.0.1:1234", False),  # another port
        ("https://127.0.0.1:8201", False),
        ("https://127.0.0.1:8000", False),  # another scheme
        ("http://localhost:3000", False),  # another host, in ALLOWED_HOSTS all the same
        ("http://localhost:8000", False),
        ("http://127.0.0.1", False),  # port 80
        ("https://evil.example", False),
        ("null", False),
    ],
)
async def test_the_socket_takes_an_origin_as_an_http_write_does(users, open_socket, db_call, origin, allowed):
    video = await db_call(make_video, users["erin"])
    status = await db_call(http_write, users["bob"], video, origin)
    assert (status == 403) is not allowed
    socket = await open_socket(users["bob"], origin=origin.encode(), expect_hello=False)
    assert await outcome(socket) == ("hello" if allowed else FORBIDDEN_ORIGIN)


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://m.example.com", True),
        ("https://a.b.example.com", True),
        ("http://m.example.com", False),  # the wildcard is for https only
        ("http://app.example.org:3000", True),
        ("http://app.example.org", False),
        ("http://app.example.org:3001", False),
    ],
)
async def test_trusted_origins_follow_djangos_rules(users, open_socket, db_call, settings, origin, allowed):
    settings.CSRF_TRUSTED_ORIGINS = ["https://*.example.com", "http://app.example.org:3000"]
    video = await db_call(make_video, users["erin"])
    assert (await db_call(http_write, users["bob"], video, origin) == 403) is not allowed
    socket = await open_socket(users["bob"], origin=origin.encode(), expect_hello=False)
    assert await outcome(socket) == ("hello" if allowed else FORBIDDEN_ORIGIN)


@pytest.mark.parametrize(("origin", "allowed"), [("https://127.0.0.1:8000", True), ("http://127.0.0.1:8000", False)])
async def test_a_wss_socket_is_https(users, open_socket, origin, allowed):
    socket = await open_socket(users["bob"], origin=origin.encode(), expect_hello=False, scope={"scheme": "wss"})
    assert await outcome(socket) == ("hello" if allowed else FORBIDDEN_ORIGIN)


@pytest.mark.parametrize(("origin", "allowed"), [("https://127.0.0.1:8000", True), ("http://127.0.0.1:8000", False)])
async def test_behind_a_tls_proxy_the_socket_is_https(users, open_socket, settings, origin, allowed):
    """nginx ends TLS and says so (`TRUST_X_FORWARDED_PROTO`): Daphne sees ws, Django https."""
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    socket = await open_socket(
        users["bob"],
        origin=origin.encode(),
        expect_hello=False,
        headers=[(b"x-forwarded-proto", b"https")],
    )
    assert await outcome(socket) == ("hello" if allowed else FORBIDDEN_ORIGIN)


async def test_a_host_outside_allowed_hosts_is_refused(users, open_socket):
    socket = await open_socket(
        users["bob"], origin=b"http://evil.example:8000", host=b"evil.example:8000", expect_hello=False
    )
    assert await outcome(socket) == FORBIDDEN_ORIGIN
