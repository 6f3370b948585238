"""Topics on the event streams (`Hub.follow`, `events.send_to_topic_on_commit`): a follower hears
each message sent to its topic once committed, in order, and none of another topic's or of a
rollback; one that stops following hears no more; one whose stream was trimmed past hears None."""

import asyncio

import pytest
from django.db import transaction

from miniapp.realtime import events
from miniapp.realtime import hub as hub_module
from miniapp.realtime.hub import hub

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


def send(topic: str, *messages: dict, rollback: bool = False) -> None:
    try:
        with transaction.atomic():
            for message in messages:
                events.send_to_topic_on_commit(topic, message)
            if rollback:
                raise RuntimeError
    except RuntimeError:
        pass


async def heard_until(heard: list, count: int, seconds: float = 3) -> list:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while len(heard) < count and loop.time() < deadline:
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.2)  # and nothing more
    return heard


async def test_a_follower_hears_its_topic_once_committed_in_order(db_call):
    seven, eight = [], []
    try:
        assert await hub.follow("live.7", seven.append)
        assert await hub.follow("live.8", eight.append)
        await db_call(send, "live.7", {"n": 1}, {"n": 2})
        await db_call(send, "live.7", {"n": 99}, rollback=True)
        await db_call(send, "live.8", {"n": 3})
        await db_call(send, "live.7", {"n": 4})
        assert await heard_until(seven, 3) == [{"n": 1}, {"n": 2}, {"n": 4}]
        assert eight == [{"n": 3}]
        hub.unfollow("live.7", seven.append)
        await db_call(send, "live.7", {"n": 5})
        await db_call(send, "live.8", {"n": 6})
        assert await heard_until(eight, 2) == [{"n": 3}, {"n": 6}]
        assert seven == [{"n": 1}, {"n": 2}, {"n": 4}]
    finally:
        await hub.stop()


async def test_a_follower_behind_its_topics_window_hears_none(db_call, small_window, monkeypatch):
    heard = []
    try:
        await hub.follow("live.9", heard.append)
        gate, real_take = asyncio.Event(), hub.take

        async def slow_take(*args):  # busy with the first message while the rest come
            await gate.wait()
            await real_take(*args)

        monkeypatch.setattr(hub, "take", slow_take)
        for n in range(300):
            await small_window.add(events.payloads([("live.9", {"n": n})]))
        gate.set()
        await heard_until(heard, 12)
        assert None in heard  # told it missed some: it reads the record
        numbers = [message["n"] for message in heard if message is not None]
        assert numbers == sorted(set(numbers)) and numbers[-1] == 299  # in order, each once, to the last
    finally:
        await hub.stop()


async def test_followers_hear_none_while_the_streams_cannot_be_read(db_call, monkeypatch):
    """Redis away: they read the record meanwhile; what was sent arrives when it is back."""
    monkeypatch.setattr(hub_module, "RETRY_SECONDS", 0.1)
    monkeypatch.setattr(hub_module, "READ_BLOCK", 0.2)
    heard = []
    try:
        await hub.follow("live.5", heard.append)
        bus = events.bus()
        real_read, failed = bus.read, []

        async def away_once(positions, block):
            if not failed:
                failed.append(1)
                await db_call(send, "live.5", {"n": 1})  # sent while the read is down
                raise ConnectionError("the connection to Redis failed")
            return await real_read(positions, block)

        monkeypatch.setattr(bus, "read", away_once)
        hub.wake()
        assert await heard_until(heard, 2) == [None, {"n": 1}]
    finally:
        await hub.stop()


async def test_a_topic_is_named_kind_dot_id():
    with pytest.raises(ValueError):
        events.send_to_topic_on_commit("7", {})
