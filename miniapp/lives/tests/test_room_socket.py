"""The room socket `/ws/live/<id>/`: signed out too; hello with the totals, a `room` frame a tick
when the likes or the viewers change (the delta since the socket's last), the viewers of every
worker that spoke lately, the status as it changes, and the Origin and live checks."""

import asyncio
import time
from datetime import timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone

from miniapp.engagement.services import live_like
from miniapp.lives import comments, room, taps
from miniapp.lives.comments import comment_create, comment_remove
from miniapp.lives.models import Presence, RoomEvent
from miniapp.lives.room_socket import FORBIDDEN, NOT_FOUND
from miniapp.lives.room_worker import PER_TICK, TICK, UNEXPECTED, Room
from miniapp.lives.services import live_end
from tests.fixtures.sockets import frame_of

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def test_a_viewer_sees_the_likes_climb_with_who_liked(users, clip_live, viewer, db_call):
    await db_call(taps.taps_add, live_id=clip_live.pk, user=users["bob"], taps=2, batch="1")
    phone = await viewer(clip_live.pk)
    hello = await phone.receive()
    assert hello["type"] == "hello" and hello["likes"] == 2 and hello["status"] == "live"
    assert hello["viewers"] == 1 and [liker["name"] for liker in hello["likers"]] == ["bob"]

    await db_call(taps.taps_add, live_id=clip_live.pk, user=users["alice"], taps=3, batch="1")
    await db_call(taps.taps_add, live_id=clip_live.pk, user=users["alice"], taps=4, batch="2")
    room = await frame_of(phone, "room")
    while room["likes"] < 9:  # the two batches may land in two ticks
        room = await frame_of(phone, "room")
    assert room["likes"] == 9 and room["viewers"] == 1
    assert [liker["name"] for liker in room["likers"]] == ["alice", "bob"]
    assert await phone.nothing(0.6)  # nothing changed: no frame


async def test_each_socket_gets_the_delta_since_what_it_was_told(users, clip_live, viewer, db_call):
    first = await viewer(clip_live.pk)
    await first.receive()
    await db_call(taps.taps_add, live_id=clip_live.pk, user=users["bob"], taps=5, batch="1")
    assert (await frame_of(first, "room"))["delta"] == 5
    second = await viewer(clip_live.pk)
    assert (await second.receive())["likes"] == 5
    await db_call(taps.taps_add, live_id=clip_live.pk, user=users["bob"], taps=1, batch="2")
    for socket in (first, second):
        frame = await frame_of(socket, "room")
        while frame["likes"] < 6:
            frame = await frame_of(socket, "room")
        assert frame["delta"] == 1


async def test_the_viewers_are_every_workers_that_spoke_lately(clip_live, viewer, db_call):
    def other_workers():
        now = timezone.now()
        Presence.objects.create(live=clip_live, worker="other:1", viewers=40, beat=now)
        Presence.objects.create(live=clip_live, worker="gone:2", viewers=500, beat=now - timedelta(seconds=30))

    await db_call(other_workers)
    phone = await viewer(clip_live.pk)
    assert (await phone.receive())["viewers"] == 41  # the silent worker's 500 do not count
    tablet = await viewer(clip_live.pk)
    await tablet.receive()
    frame = await frame_of(phone, "room")
    while frame["viewers"] != 42:
        frame = await frame_of(phone, "room")
    await tablet.close()
    frame = await frame_of(phone, "room")
    while frame["viewers"] != 41:
        frame = await frame_of(phone, "room")


async def test_viewers_learn_when_the_live_ends(clip_live, viewer, db_call):
    phone = await viewer(clip_live.pk)
    assert (await phone.receive())["status"] == "live"
    await db_call(live_end, live=clip_live)
    assert await frame_of(phone, "status") == {"type": "status", "status": "ended"}
    assert await phone.closed() == 1000


async def test_another_origin_or_no_such_live_is_refused(clip_live, viewer):
    assert await (await viewer(clip_live.pk, origin=b"https://evil.example")).closed() == FORBIDDEN
    assert await (await viewer(clip_live.pk + 100)).closed() == NOT_FOUND


async def test_a_friends_first_like_in_a_live_arrives_in_their_feed_live(users, clip_live, open_socket, db_call):
    alice = await open_socket(users["alice"])  # bob's friend
    await db_call(live_like, user=users["bob"], live=clip_live, count=3, batch="1")
    event = await alice.receive()
    assert event["type"] == "activity" and event["verb"] == "live_like" and event["actor"]["name"] == "bob"
    assert event["live"]["host"]["name"] == "carol" and event["url"] == f"/live/{clip_live.pk}/"
    await db_call(live_like, user=users["bob"], live=clip_live, count=3, batch="2")
    assert await alice.nothing()  # once per user and live


async def test_comments_reach_every_viewer_and_leave_every_screen(users, clip_live, viewer, db_call):
    phone, tablet = await viewer(clip_live.pk), await viewer(clip_live.pk)
    await phone.receive()
    await tablet.receive()
    comment = await db_call(comment_create, live=clip_live, user=users["bob"], text="<i>好看</i>")
    for socket in (phone, tablet):
        frame = await frame_of(socket, "comment")
        assert frame["id"] == comment.pk and frame["text"] == "<i>好看</i>" and frame["user"]["name"] == "bob"
    await db_call(comment_remove, comment=comment)
    for socket in (phone, tablet):
        assert await frame_of(socket, "comment_gone") == {"type": "comment_gone", "id": comment.pk}


async def test_hello_has_the_last_comments_and_a_reconnect_those_it_missed(users, clip_live, viewer, db_call):
    said = [await db_call(comment_create, live=clip_live, user=users["bob"], text=f"第{n}条") for n in range(3)]
    hello = await (await viewer(clip_live.pk)).receive()
    assert [frame["id"] for frame in hello["comments"]] == [comment.pk for comment in said]
    again = await viewer(clip_live.pk, query=f"?after={said[0].pk}")
    assert [frame["text"] for frame in (await again.receive())["comments"]] == ["第1条", "第2条"]


async def test_a_reconnect_is_told_the_comments_removed_while_it_was_away(users, clip_live, viewer, db_call):
    said = [await db_call(comment_create, live=clip_live, user=users["bob"], text=f"第{n}条") for n in range(3)]
    first = await (await viewer(clip_live.pk)).receive()
    assert "gone" not in first  # a first hello has only what stands
    await db_call(comment_remove, comment=said[1])  # while the viewer was away
    again = await (await viewer(clip_live.pk, query=f"?after={said[2].pk}")).receive()
    assert again["gone"] == [said[1].pk] and again["comments"] == []


async def test_a_comment_said_while_a_hello_is_made_follows_it(users, clip_live, viewer, monkeypatch):
    """The room writes its frames to a socket only once its hello is sent; what it wrote while the
    hello was being made comes right after it, not never."""
    real = comments.comments_for_hello

    def slow(live_id, *, after=None):
        shown = real(live_id, after=after)
        comments.comment_create(live=clip_live, user=users["bob"], text="刚说的")
        time.sleep(4 * TICK)  # the room hears it and writes it while this hello is still being made
        return shown

    monkeypatch.setattr(comments, "comments_for_hello", slow)
    phone = await viewer(clip_live.pk)
    assert (await phone.receive())["comments"] == []
    assert (await frame_of(phone, "comment"))["text"] == "刚说的"


async def test_a_friend_coming_in_is_told_to_their_friends(users, clip_live, viewer, db_call):
    alice = await viewer(clip_live.pk, user=users["alice"])
    await alice.receive()
    erin = await viewer(clip_live.pk, user=users["erin"])  # nobody's friend
    await erin.receive()
    await viewer(clip_live.pk, user=users["bob"])  # alice's friend
    notice = await frame_of(alice, "notice")
    if notice["user"]["name"] == "erin":  # erin came in a tick before bob: told to the room as nobody's friend
        assert notice["friend"] is False
        notice = await frame_of(alice, "notice")
    assert notice["kind"] == "enter" and notice["user"]["name"] == "bob" and notice["friend"] is True


async def test_a_room_that_cannot_tell_who_came_in_keeps_ticking(users, clip_live, viewer, db_call, monkeypatch):
    """The friends of someone coming in are read from the database; while that fails, the notice
    is dropped (the first thing a tick may drop) and the room goes on."""

    def away(*args):
        raise OperationalError("the database is away")

    monkeypatch.setattr(room, "friends_among", away)
    alice = await viewer(clip_live.pk, user=users["alice"])
    await alice.receive()
    await viewer(clip_live.pk, user=users["bob"])
    await asyncio.sleep(3 * TICK)  # bob's coming in is heard and fails to be told: the taps come after
    await db_call(taps.taps_add, live_id=clip_live.pk, user=users["bob"], taps=2, batch="1")
    frame = await frame_of(alice, "room")
    while frame["likes"] < 2:
        frame = await frame_of(alice, "room")


async def test_viewers_of_a_room_whose_task_failed_are_sent_to_reconnect(clip_live, viewer, monkeypatch):
    phone = await viewer(clip_live.pk)
    await phone.receive()

    async def broken(self):
        raise RuntimeError("a bug")

    monkeypatch.setattr(Room, "broadcast", broken)
    assert await phone.closed() == UNEXPECTED  # 1011: the page comes back, to a room that ticks
    monkeypatch.undo()
    again = await viewer(clip_live.pk)
    assert (await again.receive())["type"] == "hello"


async def test_a_viewer_back_within_a_minute_is_not_told_again(users, clip_live, viewer, db_call):
    """A flaky network or a reload: one "来了", one row, however often the page reconnects."""
    for _ in range(3):
        phone = await viewer(clip_live.pk, user=users["bob"])
        await phone.receive()
        await phone.close()
    entries = await db_call(lambda: RoomEvent.objects.filter(live=clip_live, kind=RoomEvent.Kind.ENTER).count())
    assert entries == 1


async def test_a_socket_gets_at_most_a_few_frames_a_tick_and_every_host_comment(users, clip_live, viewer, db_call):
    phone = await viewer(clip_live.pk)
    await phone.receive()

    def burst():
        for n in range(20):
            comment_create(live=clip_live, user=users["bob"], text=f"刷屏{n}")
        comment_create(live=clip_live, user=users["carol"], text="主播说话")  # the host's: never dropped

    await db_call(burst)
    got = []
    while not await phone.nothing(1):
        got.append(await phone.receive())
    texts = [frame["text"] for frame in got if frame["type"] == "comment"]
    assert "主播说话" in texts
    assert len(texts) <= PER_TICK * 2 < 21  # a burst spreads over a tick or two at most, sampled
