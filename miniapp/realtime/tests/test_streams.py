"""The event streams (`realtime.streams`): in memory, and in Redis when REDIS_URL names one
(the PostgreSQL + Redis run of `.ci/run`). Both answer the same way: what follows a position, in
order; a blocked read woken by an add or by `wake`; a reader trimmed past told so."""

import asyncio
import json
import os
import secrets
import threading
import time

import pytest

from miniapp.realtime import streams
from miniapp.realtime.streams import EVERYONE, MemoryStreams, RedisStreams, by_shard, parse_id, shard_of, start

# With the database tests, which run before the end-to-end ones: once Playwright's sync API has
# started, its event loop runs in this thread and an async test can no longer start one.
pytestmark = pytest.mark.django_db

MAXLEN = 1000  # >= streams.COUNT, as the settings require


@pytest.fixture(params=["memory", "redis"])
async def bus(request):
    if request.param == "memory":
        yield MemoryStreams(maxlen=MAXLEN)
        return
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("REDIS_URL is not set: Redis Streams are tested in the PostgreSQL + Redis run")
    prefix = f"test:{secrets.token_hex(4)}:"
    redis_bus = RedisStreams(url, maxlen=MAXLEN, prefix=prefix)
    yield redis_bus
    writer = redis_bus._clients().writer
    keys = [key async for key in writer.scan_iter(match=prefix + "*")]
    if keys:
        await writer.delete(*keys)
    await redis_bus.close()


def test_a_users_stream_is_their_shard():
    assert shard_of(130, 64) == shard_of(2, 64) == "2"
    assert shard_of(63, 64) == "63"
    assert EVERYONE not in {shard_of(user, 64) for user in range(200)}


def test_users_split_by_shard_go_each_to_their_own_stream_in_order():
    users = [130, 5, 2, 66, 63, 1000, 7, 2]
    split = by_shard(users, 64)
    assert split == {"2": [130, 2, 66, 2], "5": [5], "63": [63], "40": [1000], "7": [7]}
    assert all(shard_of(user, 64) == stream for stream, ids in split.items() for user in ids)
    assert by_shard([], 16) == {}


def test_a_stream_newly_read_starts_a_few_seconds_back():
    assert start(now_ms=100_000) == "95000-0"
    assert start(now_ms=10) == "0-0"


async def test_a_read_gets_what_follows_its_position_in_order(bus):
    begin = start()
    await bus.add({"1": json.dumps({"n": 1}), "2": json.dumps({"n": 2})})
    await bus.add({"1": json.dumps({"n": 3})})
    read = await bus.read({"1": begin, "2": begin}, block=0.1)
    assert not read.lost
    got = [(stream, json.loads(text)) for stream, _, text in read.entries]
    assert got == [("1", {"n": 1}), ("1", {"n": 3}), ("2", {"n": 2})]
    ids = [entry_id for stream, entry_id, _ in read.entries if stream == "1"]
    assert parse_id(ids[0]) < parse_id(ids[1])

    again = await bus.read({"1": ids[-1], "2": read.entries[-1][1]}, block=0.05)
    assert again.entries == [] and not again.lost  # nothing after the last one read


async def test_a_reader_of_other_streams_gets_nothing(bus):
    begin = start()
    await bus.add({"7": json.dumps({"for": "seven"})})
    read = await bus.read({"8": begin, EVERYONE: begin}, block=0.05)
    assert read.entries == [] and not read.lost


async def test_a_blocked_read_returns_when_something_is_added(bus):
    begin = start()
    reading = asyncio.create_task(bus.read({"3": begin}, block=5))
    await asyncio.sleep(0.1)
    assert not reading.done()
    began = time.monotonic()
    await bus.add({"3": json.dumps({"hello": "三"})})
    read = await reading
    assert [json.loads(text) for _, _, text in read.entries] == [{"hello": "三"}]
    assert time.monotonic() - began < 2


async def test_wake_ends_a_blocked_read_at_once(bus):
    reading = asyncio.create_task(bus.read({"4": start()}, block=10))
    await asyncio.sleep(0.2)  # blocked by now
    began = time.monotonic()
    await bus.wake()
    read = await asyncio.wait_for(reading, 5)
    assert read.entries == [] and time.monotonic() - began < 2


async def test_a_reader_trimmed_past_is_told_and_still_gets_what_is_left(bus):
    begin = start()
    await bus.add({"5": json.dumps({"n": 0})})
    first = (await bus.read({"5": begin}, block=0.1)).entries[0][1]
    for chunk in range(0, 3 * MAXLEN, 250):  # three windows' worth behind the reader
        for n in range(chunk, chunk + 250):
            await bus.add({"5": json.dumps({"n": n + 1})})
    read = await bus.read({"5": first}, block=0.1)
    assert read.lost == {"5"}
    assert read.entries and len(read.entries) <= streams.COUNT
    assert json.loads(read.entries[0][2])["n"] > 1  # the oldest left, past what was trimmed


async def test_a_reader_behind_by_less_than_the_window_loses_nothing(bus):
    await bus.add({"6": json.dumps({"n": -1})})
    last = (await bus.read({"6": start()}, block=0.1)).entries[-1][1]  # a reader's position: an entry it read
    for n in range(streams.COUNT + 10):  # more than one read's worth, less than MAXLEN
        await bus.add({"6": json.dumps({"n": n})})
    read = await bus.read({"6": last}, block=0.1)
    assert not read.lost and len(read.entries) == streams.COUNT
    rest = await bus.read({"6": read.entries[-1][1]}, block=0.1)
    assert not rest.lost
    assert [json.loads(text)["n"] for _, _, text in read.entries + rest.entries] == list(range(streams.COUNT + 10))


async def test_memory_streams_take_adds_from_other_threads():
    bus = MemoryStreams(maxlen=MAXLEN)
    reading = asyncio.create_task(bus.read({"9": start()}, block=5))
    await asyncio.sleep(0.05)
    thread = threading.Thread(target=bus.add_now, args=({"9": json.dumps({"from": "a view's thread"})},))
    thread.start()
    read = await asyncio.wait_for(reading, 3)
    thread.join()
    assert [json.loads(text) for _, _, text in read.entries] == [{"from": "a view's thread"}]


async def test_a_read_blocked_longer_than_redis_pys_default_timeout_is_no_error(bus):
    """redis-py gives up on a socket after 5 s by default; a hub's read waits as long (READ_BLOCK)."""
    read = await bus.read({"10": start()}, block=5.5)
    assert read.entries == [] and not read.lost


async def test_a_topics_stream_is_let_go_a_day_after_its_last_entry(bus, monkeypatch):
    """A live's topic ends with the live: its stream must not stay for ever (a shard's does)."""
    await bus.add({"live.7": '{"deliveries":[]}', "3": '{"deliveries":[]}'})
    if isinstance(bus, RedisStreams):
        writer = bus._clients().writer
        assert 0 < await writer.ttl(bus.prefix + "live.7") <= streams.TOPIC_TTL
        assert await writer.ttl(bus.prefix + "3") == -1  # no expiry
        return
    now = time.monotonic()
    monkeypatch.setattr(time, "monotonic", lambda: now + streams.TOPIC_TTL + 61)
    await bus.add({"4": '{"deliveries":[]}'})  # (the streams are looked at as entries come)
    assert "live.7" not in bus.streams and "3" in bus.streams
    read = await bus.read({"live.7": "0-0"}, block=0)
    assert read.entries == [] and not read.lost


def test_a_topics_stream_has_a_node_as_a_shard_has():
    nodes = streams.NodeStreams(
        ["redis://127.0.0.1:1/0", "redis://127.0.0.1:2/0", "redis://127.0.0.1:3/0"], maxlen=MAXLEN
    )
    assert nodes.node_of("4") == 1 and nodes.node_of(EVERYONE) == 0
    assert {nodes.node_of(f"live.{n}") for n in range(30)} == {0, 1, 2}  # spread
    assert nodes.node_of("live.12") == nodes.node_of("live.12")
