"""A worker that falls behind its stream's window (trimmed past what it read last) learns it at
its next read, and its sockets catch up from the database; after a read that fails on a server
that stays up, the hub reads on from where it was. Nothing crashes, nothing is lost."""

import asyncio
import json

import pytest

from miniapp.engagement.events import activity_event
from miniapp.engagement.models import Activity
from miniapp.engagement.services import like_create
from miniapp.realtime import events
from miniapp.realtime import hub as hub_module
from miniapp.realtime.hub import hub
from tests.fixtures.factories import make_video

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

BURST = 12
FILLER = 250  # (Redis trims whole nodes of 100 entries: FILLER pushes the burst out there too)


async def received_seqs(socket, seconds: float) -> list[int]:
    """Every activity frame's seq that arrives within `seconds`, duplicates included.
    (`receive_nothing` polls: a receive that times out would cancel the consumer.)"""
    seqs = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        if await socket.communicator.receive_nothing(timeout=0.05):
            continue
        frame = json.loads(await socket.communicator.receive_from())
        if frame["type"] == "activity":
            seqs.append(frame["seq"])
    return seqs


async def test_a_worker_behind_its_window_catches_its_sockets_up(
    users, open_socket, db_call, small_window, monkeypatch
):
    bob = await open_socket(users["bob"])
    videos = [await db_call(make_video, users["erin"], title=f"v{i}") for i in range(BURST + 1)]
    gate, real_take = asyncio.Event(), hub.take
    caught_up = []
    real_start = hub.start_catch_up
    monkeypatch.setattr(hub, "start_catch_up", lambda lost: (caught_up.append(lost), real_start(lost)))

    async def slow_take(*args):  # the worker is busy with the first entry while the burst comes
        await gate.wait()
        await real_take(*args)

    monkeypatch.setattr(hub, "take", slow_take)
    await db_call(like_create, user=users["alice"], video=videos[BURST])
    first = await db_call(lambda: Activity.objects.order_by("-id").values_list("id", flat=True).first())
    rows = [
        await db_call(Activity.objects.create, actor=users["alice"], verb=Activity.Verb.LIKE, video=video)
        for video in videos[:BURST]
    ]
    stream = events.stream_of(users["bob"].pk)
    for row in rows:
        event = await db_call(
            lambda row=row: activity_event(Activity.objects.select_related("actor", "video").get(pk=row.pk))
        )
        await small_window.add(events.payloads([([users["bob"].pk], event)]))
    for _ in range(FILLER):  # others' events in bob's stream: the window moves past the burst
        await small_window.add({stream: '{"deliveries":[]}'})
    gate.set()

    seqs = await received_seqs(bob, 3)
    assert {first, *(row.pk for row in rows)} <= set(seqs)  # each one arrived, the trimmed ones by the catch-up
    assert caught_up and caught_up[0] == {stream}  # the sockets of that stream only
    assert not hub.listener.done()
    await bob.close()


async def test_a_read_that_fails_on_a_server_that_stays_up_reads_on_and_catches_nobody_up(
    users, open_socket, db_call, monkeypatch
):
    """The connection failed, the server stayed (a restarted one is `test_node_streams`'s): what
    was added meanwhile is read from where the hub was, and no socket needs to catch up."""
    monkeypatch.setattr(hub_module, "RETRY_SECONDS", 0.1)
    monkeypatch.setattr(hub_module, "READ_BLOCK", 0.2)
    videos = [await db_call(make_video, users["erin"], title=f"v{i}") for i in range(2)]
    bob = await open_socket(users["bob"])
    bus = events.bus()
    real_read, failed = bus.read, []

    async def away_once(positions, block):
        if not failed:
            failed.append(1)
            await db_call(like_create, user=users["alice"], video=videos[0])  # added while the read is down
            raise ConnectionError("the connection to Redis failed")
        return await real_read(positions, block)

    monkeypatch.setattr(bus, "read", away_once)
    caught_up = []
    real_start = hub.start_catch_up
    monkeypatch.setattr(hub, "start_catch_up", lambda lost: (caught_up.append(lost), real_start(lost)))
    first = await bob.receive(timeout=3)
    assert first["video"]["id"] == videos[0].pk and not first.get("replay")  # read from the stream
    await db_call(like_create, user=users["alice"], video=videos[1])
    seqs = await received_seqs(bob, 1)
    later = await db_call(lambda: Activity.objects.order_by("-id").values_list("id", flat=True).first())
    assert seqs == [later]  # live still, each once
    assert failed and caught_up == []
    await bob.close()


async def test_a_socket_opened_while_a_burst_is_in_flight_misses_none_of_it(users, open_socket, db_call):
    """A worker starts reading bob's stream (his first socket here) while alice's likes are being
    committed and published: what came before is in the socket's replay, what comes after is read
    from where the stream stood, so each like reaches him (once the client drops a seq it has)."""
    videos = [await db_call(make_video, users["erin"], title=f"v{i}") for i in range(BURST)]
    before = await db_call(lambda: Activity.objects.order_by("-id").values_list("id", flat=True).first() or 0)

    async def burst():
        for video in videos:
            await db_call(like_create, user=users["alice"], video=video)
            await asyncio.sleep(0.01)

    liking = asyncio.create_task(burst())
    await asyncio.sleep(0.03)  # a few in already
    bob = await open_socket(users["bob"], after=before)
    await liking
    seqs = await received_seqs(bob, 2)
    expected = await db_call(lambda: set(Activity.objects.filter(id__gt=before).values_list("id", flat=True)))
    assert len(expected) == BURST and set(seqs) == expected
    await bob.close()
