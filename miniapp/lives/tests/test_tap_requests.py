"""Tap requests as Daphne serves them: the ASGI router's application (`lives.consumers.TapApp`),
with Django's checks (session, CSRF with its Origin, the body) and the same answers as the API."""

import asyncio
import json
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import HttpCommunicator
from django.utils import timezone

from miniapp.lives import tap_requests
from miniapp.lives.models import Live
from miniapp.lives.routing import http_urlpatterns
from miniapp.moderation.services import user_ban
from tests.fixtures.personas import signed_in_client
from tests.fixtures.sockets import shared_thread_held

pytestmark = pytest.mark.django_db(transaction=True)

SITE = "http://testserver"
TOKEN = "t" * 32


async def post(live_id: int, body, *, session: str | None = None, origin: str | None = SITE, token: str | None = TOKEN,
               content_type: str = "application/json", method: str = "POST"):  # fmt: skip
    cookies = [f"csrftoken={TOKEN}"] + ([f"sessionid={session}"] if session else [])
    headers = [(b"host", b"testserver"), (b"cookie", "; ".join(cookies).encode()), (b"accept-language", b"en"),
               (b"content-type", content_type.encode())]  # fmt: skip
    if origin:
        headers.append((b"origin", origin.encode()))
    if token:
        headers.append((b"x-csrftoken", token.encode()))
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers.append((b"content-length", str(len(data)).encode()))
    communicator = HttpCommunicator(URLRouter(http_urlpatterns), method, f"/api/lives/{live_id}/likes/", data, headers)
    response = await communicator.get_response()
    return response["status"], json.loads(response["body"]), dict(response["headers"])


async def likes_of(live: Live) -> int:
    """The live's total, read in a thread that closes its connection after (as the consumers')."""
    return await database_sync_to_async(lambda: Live.objects.values_list("likes", flat=True).get(pk=live.pk))()


@pytest.fixture
def bob_session(users):
    return signed_in_client(users["bob"]).session.session_key


async def test_a_signed_in_batch_is_counted_and_answered(clip_live, bob_session):
    status, body, headers = await post(clip_live.pk, {"taps": 3, "batch": "a1"}, session=bob_session)
    assert (status, body) == (200, {"likes": 3, "counted": 3, "refused": 0, "next": 250})
    assert headers[b"Content-Type"] == b"application/json" and headers[b"Cache-Control"] == b"no-store"
    assert headers[b"Content-Length"] == str(len(json.dumps(body))).encode()  # not chunked: one write
    assert (await post(clip_live.pk, {"taps": 3, "batch": "a1"}, session=bob_session))[1]["likes"] == 3  # again
    assert await likes_of(clip_live) == 3


async def test_a_tap_is_answered_while_the_consumers_database_thread_is_busy(clip_live, bob_session):
    """A live room's reads run in the one thread the consumers share for the database; a tap
    request does not queue behind them (`TapApp` is no Channels consumer)."""
    async with shared_thread_held():
        answered = post(clip_live.pk, {"taps": 2, "batch": "b1"}, session=bob_session)
        status, body, _ = await asyncio.wait_for(answered, 10)
    assert (status, body["counted"]) == (200, 2)


async def test_what_django_would_refuse_is_refused_with_its_reason(clip_live, bob_session):
    cases = [
        ({"session": None}, 403, "credentials were not provided"),
        ({"session": bob_session, "origin": "https://evil.example"}, 403, "CSRF"),
        ({"session": bob_session, "token": None}, 403, "CSRF"),
        ({"session": bob_session, "token": "x" * 32}, 403, "CSRF"),
        ({"session": bob_session, "method": "GET"}, 405, 'Method "GET" not allowed'),
        ({"session": bob_session, "content_type": "text/plain"}, 415, "send JSON"),
        ({"session": "not-a-session"}, 403, "credentials were not provided"),
    ]
    for options, code, says in cases:
        status, body, _ = await post(clip_live.pk, {"taps": 1, "batch": "b"}, **options)
        assert status == code and says in body["detail"], (options, status, body)
    for bad in (b"{", b"[" * 100, {"taps": 0, "batch": "z"}, {"taps": 1, "batch": "a b"}):
        status, body, _ = await post(clip_live.pk, bad, session=bob_session)
        assert status == 400 and body["detail"], (bad, body)
    huge = b'{"taps": 1, "batch": "' + b"x" * 3_000_000 + b'"}'  # past DATA_UPLOAD_MAX_MEMORY_SIZE
    status, body, _ = await post(clip_live.pk, huge, session=bob_session)
    assert (status, body["detail"]) == (413, "The request body is too large: at most 2.5\xa0MB.")
    status, body, _ = await post(clip_live.pk + 99, {"taps": 1, "batch": "c"}, session=bob_session)
    assert (status, body["detail"]) == (404, "No such live.")
    assert await likes_of(clip_live) == 0  # nothing counted


async def test_an_id_past_any_rows_is_no_such_live(clip_live, bob_session):
    """The desk commits waiting batches together in plain SQL, where SQLite cannot take a number
    past 64 bits (it raised, and failed every batch of that commit): such an id is answered before."""
    status, body, _ = await post(2**63, {"taps": 1, "batch": "huge"}, session=bob_session)
    assert (status, body["detail"]) == (404, "No such live.")
    status, body, _ = await post(clip_live.pk, {"taps": 2, "batch": "next"}, session=bob_session)
    assert (status, body["counted"], body["likes"]) == (200, 2, 2)


async def test_what_the_serializer_takes_but_the_page_never_sends_is_counted_too(clip_live, bob_session):
    for body, counted in (({"taps": "3", "batch": "s1"}, 3), ({"taps": 2.0, "batch": " s2 "}, 2)):
        status, answer, _ = await post(clip_live.pk, body, session=bob_session)
        assert (status, answer["counted"]) == (200, counted), (body, answer)
    assert await likes_of(clip_live) == 5


@pytest.mark.django_db(transaction=False)
@pytest.mark.parametrize(
    "data",
    [
        {"taps": 1, "batch": "b"}, {"taps": 50, "batch": "x" * 40}, {"taps": 51, "batch": "b"},
        {"taps": 0, "batch": "b"}, {"taps": -1, "batch": "b"}, {"taps": True, "batch": "b"},
        {"taps": 2.0, "batch": "b"}, {"taps": "3", "batch": "b"}, {"taps": 1, "batch": " b "},
        {"taps": 1, "batch": "b\n"}, {"taps": 1, "batch": "x" * 41}, {"taps": 1, "batch": "好"},
        {"taps": 1, "batch": ""}, {"taps": 1, "batch": 7}, {"taps": 1},
        {"batch": "b"}, [], None,
        "b", 1,
    ],
)  # fmt: skip
def test_the_quick_check_takes_only_what_the_serializer_takes_as_it_is(data):
    quick = tap_requests._plainly_valid(data)
    serializer = tap_requests.TapInput(data=data)
    valid = serializer.is_valid()
    if quick is not None:
        assert valid and quick == (serializer.validated_data["taps"], serializer.validated_data["batch"])
    elif valid:  # left to the serializer: a form the page never sends
        assert type(data["taps"]) is not int or data["batch"] != serializer.validated_data["batch"]


async def test_a_first_like_counted_at_the_desk_reaches_a_friends_feed_live(users, clip_live, bob_session, open_socket):
    alice = await open_socket(users["alice"])  # bob's friend
    status, body, _ = await post(clip_live.pk, {"taps": 2, "batch": "f1"}, session=bob_session)
    assert (status, body["counted"]) == (200, 2)
    event = await alice.receive()  # committed in the desk's thread, published from the event loop
    assert (event["verb"], event["actor"]["name"], event["live"]["id"]) == ("live_like", "bob", clip_live.pk)
    assert (await post(clip_live.pk, {"taps": 2, "batch": "f2"}, session=bob_session))[0] == 200
    assert await alice.nothing()  # once per user and live


async def test_a_banned_user_counts_nothing(users, clip_live):
    session = await database_sync_to_async(lambda: signed_in_client(users["erin"]).session.session_key)()
    until = timezone.now() + timedelta(days=1)
    await database_sync_to_async(user_ban)(user=users["erin"], moderator=None, reason="Spam.", until=until)
    status, body, _ = await post(clip_live.pk, {"taps": 1, "batch": "d"}, session=session)
    assert status == 403 and body["detail"]  # the ban signed erin out (`taps._commit` checks it too)
    assert await likes_of(clip_live) == 0


def test_a_busy_room_paces_its_tappers():
    pace = tap_requests.Pace()
    assert pace.next(1, "a") == 250  # a quiet room: every 250 ms
    for n in range(299):
        pace.next(1, f"s{n}")
    assert pace.next(1, "a") == 1500  # 300 tappers: 200 requests a second
    assert pace.next(2, "b") == 250  # another room
    for n in range(1000):
        pace.next(1, f"t{n}")
    assert pace.next(1, "a") == 2000  # at most 2 s


def test_the_request_rate_forgets_windows_at_most_once_a_second(monkeypatch, settings):
    """Its keys are session cookies, taken before any check: a flood of made-up ones must not make
    every request rebuild the windows (as it did past KEPT), and the windows that are over go."""
    settings.TAP_RATE = "600/minute"
    clock = [100.0]
    monkeypatch.setattr(tap_requests.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(tap_requests.RequestRate, "KEPT", 5)
    rate = tap_requests.RequestRate()
    rebuilt, windows = 0, rate.windows
    for n in range(50):
        assert rate.allow(f"made-up-{n}")
        rebuilt, windows = rebuilt + (rate.windows is not windows), rate.windows
    assert rebuilt == 1 and len(rate.windows) == 50  # one second: one pass, and every window still open
    clock[0] += 61  # every window over
    assert rate.allow("real") and list(rate.windows) == ["real"]
