"""Streams of events, one per shard of the recipients: Redis Streams across workers, the same
semantics in memory for the embedded default (issue 20's engine; the hub does not read them yet).

A user's events go to the stream of their shard (`shard_of`), events for every socket to
EVERYONE. A worker reads, from its last position in each, only the streams of the users whose
sockets it holds, so an event costs a worker nothing unless it holds one of its recipients.
Streams are ordered and resumable (a position is an entry id, `<ms>-<seq>`), and bounded: each
keeps about MAXLEN entries. A reader that fell further behind than that learns it (`Read.lost`)
and has its sockets catch up from the database, the record; so does one whose connection
failed, since what was added meanwhile may be gone with a restarted server. Nothing else is
needed to notice a loss: no numbering of our own, no heartbeats.

Why Redis Streams (issue 20's choice): they are already in the Redis the scale-out path runs, in
the Debian package CI installs; `XADD ... MAXLEN ~` bounds them at no cost per entry, `XREAD`
reads many streams from given ids in one blocking call, and a stream's oldest entry says whether
a trim passed a reader. Sharded pub/sub would need a Redis Cluster and
loses whatever is published while a worker reconnects; NATS JetStream would be a second server
to run for the same guarantees.
"""

import asyncio
import bisect
import json
import threading
import time
from dataclasses import dataclass, field

import redis.asyncio as aioredis

EVERYONE = "all"
COUNT = 500  # entries a read takes from one stream at most (<= the streams' MAXLEN: see `lost`)
BACKDATE_MS = 5_000  # a stream newly read starts this far back (`start`)

Id = tuple[int, int]


def shard_of(user_id: int, shards: int) -> str:
    """The stream of `user_id`'s events, among `shards`."""
    return str(user_id % shards)


def parse_id(text: str) -> Id:
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


def format_id(value: Id) -> str:
    return f"{value[0]}-{value[1]}"


def start(now_ms: int | None = None) -> str:
    """Where a reader starts a stream it had not read: BACKDATE_MS back, so that an event
    committed after a socket's replay from the database (and added after it registered) is read
    even if the worker's clock runs ahead of the server's. Events read twice are harmless: the
    clients drop a `seq` they have."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    return format_id((max(0, now_ms - BACKDATE_MS), 0))


@dataclass
class Read:
    entries: list[tuple[str, str, dict]] = field(default_factory=list)  # (stream, id, payload), in order per stream
    lost: set[str] = field(default_factory=set)  # streams trimmed past the reader's position


class MemoryStreams:
    """Redis Streams' semantics in one process: `add` from any thread, `read` on an event loop."""

    def __init__(self, maxlen: int):
        self.maxlen = maxlen
        self.streams: dict[str, list[tuple[Id, dict]]] = {}  # oldest first
        self.deleted: dict[str, Id] = {}  # the newest id trimmed away, per stream
        self.last: Id = (0, 0)
        self.lock = threading.Lock()
        self.waiting: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    async def add(self, payloads: dict[str, dict]) -> None:
        self.add_now(payloads)

    def add_now(self, payloads: dict[str, dict]) -> None:
        with self.lock:
            for stream, payload in payloads.items():
                ms = int(time.time() * 1000)
                self.last = (ms, 0) if ms > self.last[0] else (self.last[0], self.last[1] + 1)
                entries = self.streams.setdefault(stream, [])
                entries.append((self.last, json.loads(json.dumps(payload))))  # a copy, as Redis keeps one
                if len(entries) > self.maxlen + self.maxlen // 10:  # trimmed by tenths, as `MAXLEN ~` does
                    self.deleted[stream] = entries[-self.maxlen - 1][0]
                    del entries[: -self.maxlen]
            waiting, self.waiting = self.waiting, set()
        for loop, event in waiting:
            if not loop.is_closed():
                loop.call_soon_threadsafe(event.set)

    async def read(self, positions: dict[str, str], block: float) -> Read:
        """What follows `positions` (stream: id), waiting up to `block` seconds for something."""
        event = asyncio.Event()
        read = self._read(positions, event)
        if not read.entries and not read.lost and block > 0:
            try:
                async with asyncio.timeout(block):
                    await event.wait()
            except TimeoutError:
                pass
            read = self._read(positions, None)
        return read

    def _read(self, positions: dict[str, str], event: asyncio.Event | None) -> Read:
        read = Read()
        with self.lock:
            for stream, position in positions.items():
                after = parse_id(position)
                if self.deleted.get(stream, (0, 0)) > after:
                    read.lost.add(stream)
                entries = self.streams.get(stream, [])
                first = bisect.bisect_right(entries, after, key=lambda entry: entry[0])
                read.entries += [
                    (stream, format_id(entry_id), payload) for entry_id, payload in entries[first : first + COUNT]
                ]
            if event is not None and not read.entries and not read.lost:
                self.waiting.add((asyncio.get_running_loop(), event))
        return read

    async def wake(self) -> None:
        """End a blocked `read` now (the streams to read changed)."""
        with self.lock:
            waiting, self.waiting = self.waiting, set()
        for loop, event in waiting:
            if not loop.is_closed():
                loop.call_soon_threadsafe(event.set)

    async def close(self) -> None:
        pass


class RedisStreams:
    """The streams in Redis (5 or later), keys `<prefix><stream>`.

    Adds go through a pool; reads through one connection of their own, which a blocked `XREAD`
    holds, and which `wake` unblocks (`CLIENT UNBLOCK`) when the streams to read change. The
    clients belong to the event loop that made them (the tests run one loop per test)."""

    def __init__(self, url: str, maxlen: int, prefix: str = "miniapp:events:"):
        self.url, self.maxlen, self.prefix = url, maxlen, prefix
        self.loop: asyncio.AbstractEventLoop | None = None
        self.writer: aioredis.Redis | None = None
        self.reader: aioredis.Redis | None = None
        self.reader_id: int | None = None

    def _clients(self) -> None:
        loop = asyncio.get_running_loop()
        if self.loop is not loop:
            self.loop = loop
            self.writer = aioredis.Redis.from_url(self.url, socket_keepalive=True)
            self.reader = aioredis.Redis.from_url(self.url, single_connection_client=True, socket_keepalive=True)
            self.reader_id = None

    async def add(self, payloads: dict[str, dict]) -> None:
        """One round trip, one `XADD ... MAXLEN ~` a stream."""
        self._clients()
        async with self.writer.pipeline(transaction=False) as pipe:
            for stream, payload in payloads.items():
                data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
                pipe.xadd(self.prefix + stream, {"d": data}, maxlen=self.maxlen, approximate=True)
            await pipe.execute()

    async def read(self, positions: dict[str, str], block: float) -> Read:
        """What follows `positions`, waiting up to `block` seconds. Raises the connection's error
        (the caller catches up: what was added meanwhile may be lost)."""
        self._clients()
        if not positions:
            await asyncio.sleep(block)
            return Read()
        if self.reader_id is None:
            self.reader_id = await self.reader.client_id()
        keys = {self.prefix + stream: position for stream, position in positions.items()}
        try:
            answer = await self.reader.xread(keys, count=COUNT, block=max(1, int(block * 1000)))
        except BaseException:
            self.reader_id = None  # a new connection next time, with an id of its own
            raise
        read = Read()
        full = []
        for key, entries in answer or ():
            stream = key.decode()[len(self.prefix) :]
            read.entries += [(stream, entry_id.decode(), json.loads(fields[b"d"])) for entry_id, fields in entries]
            if len(entries) == COUNT:
                full.append(stream)
        # A trim reaches past a reader only when the stream holds MAXLEN (>= COUNT) entries after
        # its position, so only a read that came back full can have lost some; it did if the
        # stream's oldest entry is now newer than the position. (Redis 7.0 keeps no record of
        # the newest entry a trim removed: this may report a loss when the trim stopped exactly at
        # the position, never miss one. A loss reported costs a catch-up from the database.)
        for stream in full:
            oldest = await self.writer.xrange(self.prefix + stream, count=1)
            if oldest and parse_id(oldest[0][0].decode()) > parse_id(positions[stream]):
                read.lost.add(stream)
        return read

    async def wake(self) -> None:
        """End a blocked `read` now (the streams to read changed)."""
        if self.loop is asyncio.get_running_loop() and self.reader_id is not None:
            await self.writer.client_unblock(self.reader_id)

    async def close(self) -> None:
        for client in (self.reader, self.writer):
            if client is not None:
                await client.aclose()
        self.loop = self.writer = self.reader = self.reader_id = None
