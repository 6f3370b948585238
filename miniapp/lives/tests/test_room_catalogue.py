"""The live room's catalogue (`realtime.schema.ROOM_EVENTS`): every type in it is sent by the app
to a viewer in a test here, and what arrives matches it. Every other room test is checked too:
under the test settings (REALTIME_CHECK_EVENTS) a malformed frame raises where it is made."""

import pytest

from miniapp.lives import taps
from miniapp.lives.comments import comment_create, comment_remove
from miniapp.lives.room_worker import frame_text
from miniapp.lives.services import live_end
from miniapp.realtime.schema import ROOM_EVENTS, MalformedEvent, check_event
from tests.fixtures.sockets import frame_of

pytestmark = pytest.mark.django_db(transaction=True)


def catalogued(type_, received):
    """Each of these frames is of `type_` and matches the room's schema of it."""
    assert received and all(check_event(frame, "room") == type_ for frame in received), received


async def test_hello(users, clip_live, viewer, db_call):
    await db_call(taps.taps_add, live_id=clip_live.pk, user=users["bob"], taps=2, batch="1")
    await db_call(comment_create, live=clip_live, user=users["bob"], text="来了")
    catalogued("hello", [await (await viewer(clip_live.pk)).receive()])


async def test_room(users, clip_live, viewer, db_call):
    phone = await viewer(clip_live.pk)
    await phone.receive()
    await db_call(taps.taps_add, live_id=clip_live.pk, user=users["alice"], taps=3, batch="1")
    catalogued("room", [await frame_of(phone, "room")])


async def test_status(clip_live, viewer, db_call):
    phone = await viewer(clip_live.pk)
    await phone.receive()
    await db_call(live_end, live=clip_live)
    catalogued("status", [await frame_of(phone, "status")])


async def test_comment(users, clip_live, viewer, db_call):
    phone = await viewer(clip_live.pk)
    await phone.receive()
    await db_call(comment_create, live=clip_live, user=users["bob"], text="<i>好看</i>")
    await db_call(comment_create, live=clip_live, user=users["carol"], text="谢谢")  # the host's
    catalogued("comment", [await frame_of(phone, "comment"), await frame_of(phone, "comment")])


async def test_comment_gone(users, clip_live, viewer, db_call):
    phone = await viewer(clip_live.pk)
    await phone.receive()
    comment = await db_call(comment_create, live=clip_live, user=users["bob"], text="好看")
    await db_call(comment_remove, comment=comment)
    catalogued("comment_gone", [await frame_of(phone, "comment_gone")])


async def test_notice(users, clip_live, viewer):
    alice = await viewer(clip_live.pk, user=users["alice"])
    await alice.receive()
    await viewer(clip_live.pk, user=users["bob"])  # alice's friend comes in
    catalogued("notice", [await frame_of(alice, "notice")])


async def test_pong(clip_live, viewer):
    phone = await viewer(clip_live.pk)
    await phone.receive()
    await phone.send({"type": "ping"})
    catalogued("pong", [await frame_of(phone, "pong")])


SENT_BY = {
    "hello": test_hello,
    "room": test_room,
    "status": test_status,
    "comment": test_comment,
    "comment_gone": test_comment_gone,
    "notice": test_notice,
    "pong": test_pong,
}


def test_every_type_of_the_room_catalogue_is_sent_by_a_test_here():
    assert set(SENT_BY) == set(ROOM_EVENTS)


def test_a_malformed_frame_fails_where_it_is_made(settings):
    assert settings.REALTIME_CHECK_EVENTS
    room = {"type": "room", "likes": 9, "delta": 2, "viewers": 1, "likers": []}
    assert check_event(room, "room") == "room"
    for wrong in (
        {**room, "likes": -1},
        {**room, "likers": [{"id": 1, "name": "bob"}] * 4},  # at most 3, each with an avatar
        {"type": "status", "status": "over"},
        {"type": "notice", "kind": "leave", "user": {"id": 1, "name": "bob", "avatar": ""}, "friend": False},
        {"type": "group_read", "group": 1, "last_id": 0, "unread": 0, "total_unread": 0},  # not the room's
    ):
        with pytest.raises(MalformedEvent):
            frame_text(wrong)
