"""The room socket `/ws/live/<id>/`: signed out too; hello with the totals, a `room` frame a tick
when the likes or the viewers change (the delta since the socket's last), the viewers of every
worker that spoke lately, the status as it changes, and the Origin and live checks."""

import contextlib
from datetime import timedelta

import pytest
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from miniapp.asgi import application
from miniapp.engagement.services import live_like
from miniapp.lives import taps
from miniapp.lives.models import Presence
from miniapp.lives.room_socket import FORBIDDEN, NOT_FOUND, rooms
from miniapp.lives.services import live_create, live_end, live_start
from tests.fixtures.factories import make_video
from tests.fixtures.sockets import HOST, ORIGIN, Socket

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.fixture
def live(users):
    clip = make_video(users["carol"], title="广场舞")
    return live_start(live=live_create(host=users["carol"], title="广场舞直播", clip=clip))


@pytest.fixture
async def viewer():
    """`await viewer(live_id, origin=ORIGIN)`: a room socket, signed out; its first frame unread."""
    opened = []

    async def connect(live_id: int, origin: bytes = ORIGIN):
        communicator = WebsocketCommunicator(
            application, f"/ws/live/{live_id}/", headers=[(b"origin", origin), (b"host", HOST)]
        )
        connected, _ = await communicator.connect()
        assert connected
        socket = Socket(communicator)
        opened.append(socket)
        return socket

    yield connect
    for socket in opened:
        with contextlib.suppress(Exception):
            await socket.close()
    await rooms.stop()


async def frame_of(socket: Socket, kind: str, timeout: float = 3) -> dict:
    """The next frame of this type (others skipped)."""
    while True:
        frame = await socket.receive(timeout=timeout)
        if frame["type"] == kind:
            return frame


async def test_a_viewer_sees_the_likes_climb_with_who_liked(users, live, viewer, db_call):
    await db_call(taps.taps_add, live_id=live.pk, user=users["bob"], taps=2, batch="1")
    phone = await viewer(live.pk)
    hello = await phone.receive()
    assert hello["type"] == "hello" and hello["likes"] == 2 and hello["status"] == "live"
    assert hello["viewers"] == 1 and [liker["name"] for liker in hello["likers"]] == ["bob"]

    await db_call(taps.taps_add, live_id=live.pk, user=users["alice"], taps=3, batch="1")
    await db_call(taps.taps_add, live_id=live.pk, user=users["alice"], taps=4, batch="2")
    room = await frame_of(phone, "room")
    while room["likes"] < 9:  # the two batches may land in two ticks
        room = await frame_of(phone, "room")
    assert room["likes"] == 9 and room["viewers"] == 1
    assert [liker["name"] for liker in room["likers"]] == ["alice", "bob"]
    assert await phone.nothing(0.6)  # nothing changed: no frame


async def test_each_socket_gets_the_delta_since_what_it_was_told(users, live, viewer, db_call):
    first = await viewer(live.pk)
    await first.receive()
    await db_call(taps.taps_add, live_id=live.pk, user=users["bob"], taps=5, batch="1")
    assert (await frame_of(first, "room"))["delta"] == 5
    second = await viewer(live.pk)
    assert (await second.receive())["likes"] == 5
    await db_call(taps.taps_add, live_id=live.pk, user=users["bob"], taps=1, batch="2")
    for socket in (first, second):
        frame = await frame_of(socket, "room")
        while frame["likes"] < 6:
            frame = await frame_of(socket, "room")
        assert frame["delta"] == 1


async def test_the_viewers_are_every_workers_that_spoke_lately(live, viewer, db_call):
    def other_workers():
        now = timezone.now()
        Presence.objects.create(live=live, worker="other:1", viewers=40, beat=now)
        Presence.objects.create(live=live, worker="gone:2", viewers=500, beat=now - timedelta(seconds=30))

    await db_call(other_workers)
    phone = await viewer(live.pk)
    assert (await phone.receive())["viewers"] == 41  # the silent worker's 500 do not count
    tablet = await viewer(live.pk)
    await tablet.receive()
    frame = await frame_of(phone, "room")
    while frame["viewers"] != 42:
        frame = await frame_of(phone, "room")
    await tablet.close()
    frame = await frame_of(phone, "room")
    while frame["viewers"] != 41:
        frame = await frame_of(phone, "room")


async def test_viewers_learn_when_the_live_ends(live, viewer, db_call):
    phone = await viewer(live.pk)
    assert (await phone.receive())["status"] == "live"
    await db_call(live_end, live=live)
    assert await frame_of(phone, "status") == {"type": "status", "status": "ended"}
    assert await phone.closed() == 1000


async def test_another_origin_or_no_such_live_is_refused(live, viewer):
    assert await (await viewer(live.pk, origin=b"https://evil.example")).closed() == FORBIDDEN
    assert await (await viewer(live.pk + 100)).closed() == NOT_FOUND


async def test_a_friends_first_like_in_a_live_arrives_in_their_feed_live(users, live, open_socket, db_call):
    alice = await open_socket(users["alice"])  # bob's friend
    await db_call(live_like, user=users["bob"], live=live, count=3, batch="1")
    event = await alice.receive()
    assert event["type"] == "activity" and event["verb"] == "live_like" and event["actor"]["name"] == "bob"
    assert event["live"]["host"]["name"] == "carol" and event["url"] == f"/live/{live.pk}/"
    await db_call(live_like, user=users["bob"], live=live, count=3, batch="2")
    assert await alice.nothing()  # once per user and live
