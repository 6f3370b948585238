"""A worker's room follows its live's topic on the event streams (`lives.topics`): it reads the
record once when it starts, then hears the taps' totals, the comments and the end as they commit,
whichever worker commits them; a room that fell behind its topic's window reads what it missed
from the record, and nothing is lost."""

import asyncio
from datetime import timedelta

import pytest
from django.utils import timezone

from miniapp.lives import room, room_worker, taps, topics
from miniapp.lives.comments import comment_create
from miniapp.lives.models import RoomEvent
from miniapp.lives.services import live_end
from miniapp.realtime import events
from miniapp.realtime.hub import hub
from tests.fixtures.sockets import frame_of

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

BURST = 12
FILLER = 250  # (Redis trims whole nodes of 100 entries: FILLER pushes the burst out there too)


@pytest.fixture
def reads(monkeypatch):
    """The room's readings of the record, counted; none but the first and those after a loss
    (CHECK_EVERY an hour)."""
    monkeypatch.setattr(room_worker, "CHECK_EVERY", 3600)
    made, real_read = [], room_worker._read

    def counted(*args):
        made.append(args)
        return real_read(*args)

    monkeypatch.setattr(room_worker, "_read", counted)
    return made


async def test_a_room_reads_the_record_once_then_hears_its_topic(users, clip_live, viewer, db_call, reads):
    phone = await viewer(clip_live.pk, user=users["alice"])
    assert (await phone.receive())["likes"] == 0
    await db_call(taps.taps_add, live_id=clip_live.pk, user=users["bob"], taps=3, batch="1")
    room = await frame_of(phone, "room")
    assert room["likes"] == 3 and room["delta"] == 3 and [liker["name"] for liker in room["likers"]] == ["bob"]
    await db_call(taps.taps_add, live_id=clip_live.pk, user=users["erin"], taps=2, batch="1")
    room = await frame_of(phone, "room")
    assert room["likes"] == 5 and [liker["name"] for liker in room["likers"]] == ["erin", "bob"]
    comment = await db_call(comment_create, live=clip_live, user=users["bob"], text="看到了")
    assert (await frame_of(phone, "comment"))["id"] == comment.pk
    await db_call(live_end, live=clip_live)
    assert await frame_of(phone, "status") == {"type": "status", "status": "ended"}
    assert len(reads) == 1  # all of it heard, none of it read


async def test_a_room_behind_its_topics_window_reads_what_it_missed(
    users, clip_live, viewer, db_call, small_window, reads, monkeypatch
):
    """Hours behind (its missed comments are old), with news heard after the gap and more missed
    than one reading takes: each missed comment arrives all the same."""
    monkeypatch.setattr(room, "EVENTS_MAX", 5)  # a page of the catch-up
    phone = await viewer(clip_live.pk)
    await phone.receive()
    gate, real_take = asyncio.Event(), hub.take

    async def slow_take(*args):  # the worker is busy with the first message while the rest come
        await gate.wait()
        await real_take(*args)

    monkeypatch.setattr(hub, "take", slow_take)
    said = [  # the host's: never sampled away
        await db_call(comment_create, live=clip_live, user=users["carol"], text=f"第{n}条") for n in range(BURST)
    ]
    counted = [
        await db_call(taps.taps_add, live_id=clip_live.pk, user=users["bob"], taps=2, batch=str(n)) for n in range(3)
    ]
    await db_call(lambda: RoomEvent.objects.filter(live=clip_live).update(created=timezone.now() - timedelta(hours=3)))
    topic = topics.topic(clip_live.pk)
    for _ in range(FILLER):  # the window moves past all of it
        await small_window.add(events.payloads([(topic, {"likes": 0, "likers": []})]))
    said.append(await db_call(comment_create, live=clip_live, user=users["carol"], text="缺口之后"))  # heard
    gate.set()

    seen, likes = set(), 0
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    while (len(seen) < len(said) or likes < counted[-1].likes) and loop.time() < deadline:
        frame = await phone.receive(timeout=max(0.1, deadline - loop.time()))
        if frame["type"] == "comment":
            seen.add(frame["id"])
        elif frame["type"] == "room":
            likes = frame["likes"]
    assert seen == {comment.pk for comment in said} and likes == counted[-1].likes == 6
    assert len(reads) >= 4  # the first, and the catch-up's pages after the loss


async def test_a_comment_removed_before_it_is_heard_is_never_shown():
    """Its removal's publish went first (the comment's was held, or queued while Redis was away)."""
    found = room_worker.Room(1)
    found.take_event(11, RoomEvent.Kind.GONE, {"type": "comment_gone", "id": 7})
    found.take_event(10, RoomEvent.Kind.COMMENT, {"type": "comment", "id": 7, "staff": False})
    found.take_event(12, RoomEvent.Kind.COMMENT, {"type": "comment", "id": 8, "staff": False})
    found.take_event(13, RoomEvent.Kind.GONE, {"type": "comment_gone", "id": 8})  # in the same tick
    assert [(kind, frame["id"]) for _, kind, frame in found.events] == [("gone", 7), ("gone", 8)]


async def test_a_workers_commits_are_told_merged_at_most_every_news_every(db_call):
    """The desk's commits into a room, hundreds a second, are one message every NEWS_EVERY at most:
    the largest total, the latest likers first (two threads' commits may come in either order)."""
    bob, erin, alice = ({"id": n, "name": name, "avatar": ""} for n, name in ((1, "bob"), (2, "erin"), (3, "alice")))
    heard, news = [], topics.LikesNews()
    try:
        await hub.follow(topics.topic(4242), heard.append)
        news.add(4242, 10, [bob])
        news.tell_soon()  # quiet until now: at once
        news.add(4242, 15, [erin])
        news.tell_soon()
        news.add(4242, 12, [alice, bob])  # a commit made before the last, told after it
        news.tell_soon()  # (one timer for both)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 2
        while len(heard) < 2 and loop.time() < deadline:
            await asyncio.sleep(0.01)
        await asyncio.sleep(topics.NEWS_EVERY * 2)
        assert heard == [
            {"likes": 10, "likers": [bob]},
            {"likes": 15, "likers": [erin, alice, bob]},
        ]
    finally:
        await hub.stop()


async def test_the_check_read_mends_the_likers_two_workers_messages_crossed(
    users, clip_live, viewer, db_call, monkeypatch
):
    """bob's commit on one worker and erin's later one on another: erin's message (the larger
    total) came first, bob's was dropped as older, so bob is missing from the likers heard; the
    next check read gives the record's latest three."""
    monkeypatch.setattr(room_worker, "CHECK_EVERY", 3600)  # (until the heard frame is in)
    monkeypatch.setattr(topics, "tell_on_commit", lambda *args: None)  # (tell nothing: the test tells)
    monkeypatch.setattr(topics.news, "add", lambda *args: None)
    phone = await viewer(clip_live.pk)
    await phone.receive()
    await db_call(taps.taps_add, live_id=clip_live.pk, user=users["bob"], taps=2, batch="b")
    await db_call(taps.taps_add, live_id=clip_live.pk, user=users["erin"], taps=3, batch="e")
    erin = users["erin"]
    hub.tell(topics.topic(clip_live.pk), [{"likes": 5, "likers": [{"id": erin.pk, "name": "erin", "avatar": ""}]}])
    frame = await frame_of(phone, "room")
    assert frame["likes"] == 5 and [liker["name"] for liker in frame["likers"]] == ["erin"]  # as heard
    monkeypatch.setattr(room_worker, "CHECK_EVERY", 0.2)
    found = room_worker.rooms.rooms[clip_live.pk]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 3
    while [liker["name"] for liker in found.state.likers] != ["erin", "bob"] and loop.time() < deadline:
        await asyncio.sleep(0.05)
    assert [liker["name"] for liker in found.state.likers] == ["erin", "bob"]  # the next frame's
