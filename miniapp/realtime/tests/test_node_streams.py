"""The event streams on real redis-servers of the test's own: one server restarted under a reader
(its streams reported lost, so their sockets catch up) or only its connection lost (read on,
nothing lost); and over several servers (`streams.NodeStreams`, REALTIME_STREAM_URLS), where a
node that goes away costs only its own streams, and a restarted one only its own catch-up."""

import asyncio
import signal
import time

import pytest
import redis

from miniapp.realtime import events, streams
from miniapp.realtime.streams import EVERYONE, NodeStreams, NotAdded
from tests.faults import RedisServer

# With the database tests, which run before the end-to-end ones (see test_streams.py).
pytestmark = pytest.mark.django_db

MAXLEN = 1000


@pytest.fixture
def servers(tmp_path):
    started = []
    for n in range(2):
        folder = tmp_path / f"node{n}"
        folder.mkdir()
        server = RedisServer(folder)
        server.start()
        started.append(server)
    yield started
    for server in started:
        server.stop()


@pytest.fixture
async def nodes(servers):
    bus = NodeStreams([server.url for server in servers], maxlen=MAXLEN)
    bus.RETRY_SECONDS = 0.3
    yield bus
    await bus.close()


async def added(bus: NodeStreams, payloads: dict[str, str]) -> None:
    """`add`, again (once the node's time comes) if a pooled connection fails once after its
    server restarted."""
    for attempt in range(3):
        try:
            await bus.add(payloads)
            return
        except NotAdded:
            if attempt == 2:
                raise
            await asyncio.sleep(bus.RETRY_SECONDS)


async def added_to(bus: streams.RedisStreams, payloads: dict[str, str]) -> None:
    """`add`, again if a pooled connection fails once after its server restarted (as `events`
    tries it)."""
    for attempt in range(3):
        try:
            await bus.add(payloads)
            return
        except redis.exceptions.ConnectionError:
            if attempt == 2:
                raise


def texts(read: streams.Read) -> list[tuple[str, str]]:
    return sorted((stream, text) for stream, _, text in read.entries)


def test_a_stream_lives_on_its_shard_modulo_the_nodes():
    bus = NodeStreams(["redis://127.0.0.1:1/0", "redis://127.0.0.1:2/0", "redis://127.0.0.1:3/0"], maxlen=MAXLEN)
    assert [bus.node_of(str(shard)) for shard in range(7)] == [0, 1, 2, 0, 1, 2, 0]
    assert bus.node_of(EVERYONE) == 0


async def test_entries_go_to_their_nodes_and_are_read_back_from_all(nodes, servers):
    await nodes.add({"0": "a", "1": "b", "2": "c", EVERYONE: "d"})
    read = await nodes.read({"0": "0-0", "1": "0-0", "2": "0-0", EVERYONE: "0-0"}, block=1)
    assert texts(read) == [("0", "a"), ("1", "b"), ("2", "c"), (EVERYONE, "d")]
    assert not read.lost
    # Each node holds its own streams only.
    assert await nodes.nodes[1].last_id("0") == "0-0"
    assert await nodes.nodes[0].last_id("1") == "0-0"


async def test_a_read_waiting_on_both_nodes_ends_when_either_gets_an_entry(nodes):
    positions = {"0": await nodes.last_id("0"), "1": await nodes.last_id("1")}
    started = time.monotonic()
    reading = asyncio.create_task(nodes.read(positions, block=5))
    await asyncio.sleep(0.2)
    await nodes.add({"1": "late"})
    read = await asyncio.wait_for(reading, timeout=3)
    assert texts(read) == [("1", "late")]
    assert time.monotonic() - started < 2  # not the other node's 5 s


@pytest.fixture
async def one(servers):
    bus = streams.RedisStreams(servers[0].url, maxlen=MAXLEN)
    yield bus
    await bus.close()


async def read_again(bus: streams.RedisStreams, positions: dict[str, str], block: float) -> streams.Read:
    """`read`, again as the hub does if the connection failed (redis-py opens a new one then)."""
    try:
        return await bus.read(positions, block)
    except redis.exceptions.ConnectionError:
        return await bus.read(positions, block)


async def test_a_read_reports_its_streams_lost_when_the_server_restarted_under_it(one, servers):
    """The read after a restart answers from the new server as if nothing happened, but the
    server is another (its run_id), and what was added before the restart and not read is gone."""
    positions = {"0": await one.last_id("0"), "1": await one.last_id("1")}
    await one.add({"0": "read"})
    read = await one.read(positions, block=1)
    assert texts(read) == [("0", "read")] and not read.lost
    positions["0"] = read.entries[-1][1]
    await one.add({"1": "never read"})
    servers[0].stop()
    servers[0].start()  # the same port, empty: as a Redis without a disk restarted
    await added_to(one, {"0": "after"})
    read = await read_again(one, positions, block=5)
    assert read.lost == {"0", "1"}  # their sockets catch up from the database
    assert texts(read) == [("0", "after")]
    read = await one.read({"0": read.entries[-1][1]}, block=0.1)
    assert not read.lost  # said once


async def test_a_blocked_read_across_a_restart_still_reports_its_streams_lost(one, servers):
    positions = {"0": await one.last_id("0")}
    reading = asyncio.create_task(one.read(positions, block=10))
    await asyncio.sleep(0.2)  # blocked in XREAD
    servers[0].stop()
    servers[0].start()
    await asyncio.sleep(0.5)
    await added_to(one, {"0": "after"})
    try:
        read = await asyncio.wait_for(reading, 15)
    except redis.exceptions.ConnectionError:  # as the hub: read again
        read = await one.read(positions, block=5)
    assert read.lost == {"0"}


async def test_a_lost_connection_to_a_server_that_stayed_loses_nothing(one, servers):
    positions = {"0": await one.last_id("0")}
    await one.add({"0": "first"})
    read = await one.read(positions, block=1)
    positions["0"] = read.entries[-1][1]
    reading = asyncio.create_task(one.read(positions, block=10))
    await asyncio.sleep(0.2)
    killer = redis.Redis.from_url(servers[0].url)
    assert killer.client_kill_filter(_type="normal", skipme=True) >= 1  # every client but this one: ours
    killer.close()
    await added_to(one, {"0": "second"})
    try:
        read = await asyncio.wait_for(reading, 15)
    except redis.exceptions.ConnectionError:
        read = await one.read(positions, block=5)
    assert texts(read) == [("0", "second")] and not read.lost  # read on from where it was


async def test_a_read_failed_with_its_connection_kept_reads_on_through_a_new_one(one, servers):
    """A read that fails with an error reply (what a failover's UNBLOCKED is) keeps its connection:
    the next read opens a new one all the same, which asks which server it reached."""
    positions = {"0": await one.last_id("0")}
    reading = asyncio.create_task(one.read(positions, block=10))
    await asyncio.sleep(0.2)
    failed_id = one._clients().reader_id
    await one._clients().writer.client_unblock(failed_id, error=True)
    with pytest.raises(redis.exceptions.ResponseError, match="UNBLOCKED"):
        await asyncio.wait_for(reading, 5)
    await one.add({"0": "next"})
    read = await one.read(positions, block=1)
    assert texts(read) == [("0", "next")] and not read.lost  # the same server: read on
    assert one._clients().reader_id != failed_id


async def test_a_server_first_reached_after_a_failure_reports_its_streams_lost(one, servers):
    """The hub could not learn where a stream stood (it reads from a few seconds back): a server
    it had never reached may have held what it missed, so the first read says so."""
    servers[0].stop()
    with pytest.raises(redis.exceptions.ConnectionError):
        await one.last_id("0")
    servers[0].start()
    await added_to(one, {"0": "after"})
    read = await read_again(one, {"0": streams.start()}, block=1)
    assert read.lost == {"0"} and texts(read) == [("0", "after")]


async def test_a_node_back_without_a_restart_is_read_on_and_nothing_is_lost(nodes, servers):
    positions = {"0": await nodes.last_id("0"), "1": await nodes.last_id("1")}
    await nodes.add({"1": "waiting"})
    servers[1].process.send_signal(signal.SIGSTOP)  # quiet, not restarted
    try:
        await nodes.add({"0": "meanwhile"})
        read = await nodes.read(positions, block=5)  # node 1's read is cancelled once node 0 answered
        assert texts(read) == [("0", "meanwhile")] and not read.lost
        positions["0"] = read.entries[-1][1]
    finally:
        servers[1].process.send_signal(signal.SIGCONT)
    await asyncio.sleep(nodes.RETRY_SECONDS)
    read = await nodes.read(positions, block=1)
    assert texts(read) == [("1", "waiting")] and not read.lost  # read on from where it was


async def test_a_node_away_costs_only_its_own_streams_and_its_return_is_reported(nodes, servers):
    positions = {"0": await nodes.last_id("0"), "1": await nodes.last_id("1")}  # both servers known
    servers[1].stop()

    with pytest.raises(NotAdded) as failed:
        await nodes.add({"0": "kept", "1": "gone"})
    assert failed.value.rest == {"1": "gone"}  # the rest was added
    started = time.monotonic()
    read = await nodes.read(positions, block=5)
    assert texts(read) == [("0", "kept")]  # the node that answers is read
    assert time.monotonic() - started < 2
    positions["0"] = read.entries[-1][1]
    # While it is away its streams are not read, and the other's are, without waiting for it.
    await nodes.add({"0": "more"})
    assert texts(await nodes.read(positions, block=5)) == [("0", "more")]

    servers[1].start()  # empty, as a restarted Redis without a disk
    await asyncio.sleep(nodes.RETRY_SECONDS)
    positions["0"] = await nodes.last_id("0")
    read = await nodes.read(positions, block=1)
    assert read.lost == {"1"}  # its sockets catch up: what it held may be gone (another run_id)
    await added(nodes, {"1": "back"})
    read = await nodes.read({"1": "0-0"}, block=1)
    assert texts(read) == [("1", "back")]


async def test_every_node_away_is_an_error_as_one_redis_is(nodes, servers):
    for server in servers:
        server.stop()
    with pytest.raises(Exception) as failed:
        await nodes.read({"0": "0-0", "1": "0-0"}, block=1)
    assert not isinstance(failed.value, asyncio.TimeoutError | NotAdded)


async def test_a_publish_with_a_node_away_adds_the_rest_once_and_keeps_its_part_until_it_answers(
    nodes, servers, monkeypatch
):
    monkeypatch.setattr(events, "_bus", nodes)
    events.unsent.take()
    servers[1].stop()
    event = {"type": "activity", "seq": 7}
    await events.apublish([([16, 17], event)])  # users 16 and 17: streams 0 and 1
    # Stream 0's entry went, once (not once per attempt); stream 1's waits in the process.
    read = await nodes.read({"0": "0-0"}, block=1)
    assert len(read.entries) == 1
    assert events.unsent.entries == [events.payloads([([17], event)])]

    servers[1].start()
    for _ in range(3):  # tried again once its time comes (and a pooled connection may fail once)
        await asyncio.sleep(nodes.RETRY_SECONDS)
        try:
            await events.add_unsent()
            break
        except NotAdded:
            continue
    assert not events.unsent.entries
    read = await nodes.read({"1": "0-0"}, block=1)
    assert [text for _, _, text in read.entries] == [events.payloads([([17], event)])["1"]]
    read = await nodes.read({"0": "0-0"}, block=1)
    assert len(read.entries) == 1  # still once
