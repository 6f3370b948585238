"""Streams of events, one per shard of the recipients: Redis Streams across workers, the same
semantics in memory for the embedded default; what the hub (`realtime.hub`) reads.

A user's events go to the stream of their shard (`shard_of`), events for every socket to
EVERYONE, a topic's messages (a live room's: `live.<id>`) to a stream of the topic's own. A worker
reads, from its last position in each, only the streams of the users whose sockets it holds and of
the topics it follows, so an event costs a worker nothing unless it holds one of its recipients.
Streams are ordered and resumable (a position is an entry id, `<ms>-<seq>`), and bounded: each
keeps about MAXLEN entries. A reader that fell further behind than that learns it (`Read.lost`)
and has its sockets catch up from the database, the record; so does one whose server is not the
one it read before (restarted, or another: `RedisStreams.connected`), since what was added
meanwhile may be gone with it. A connection that failed to the same server loses nothing: the
reader reads on from its positions. Nothing else is needed to notice a loss: no numbering of
our own, no heartbeats.

Why Redis Streams (issue 20's choice, measured against Redis sharded pub/sub and NATS JetStream by
bench/engines.py; the figures are in ARCHITECTURE.md, "Decisions"): they are already in the Redis
the scale-out path runs, in the Debian package CI installs; `XADD ... MAXLEN ~` bounds them at no
cost per entry, `XREAD` reads many streams from given ids in one blocking call (the cheapest read
of the three once reads bring many entries), and a stream's oldest entry says whether a trim
passed a reader. Sharded pub/sub loses whatever is published while a worker reconnects; NATS
JetStream resumes as well but costs its publisher two to three times the CPU, and is a second
server to run.
"""

import asyncio
import bisect
import contextlib
import logging
import threading
import time
import weakref
import zlib
from dataclasses import dataclass, field

import redis
import redis.asyncio as aioredis
from redis.exceptions import ResponseError
from redis.utils import str_if_bytes

log = logging.getLogger(__name__)

EVERYONE = "all"
COUNT = 500  # entries a read takes from one stream at most (<= the streams' MAXLEN: see `lost`)
BACKDATE_MS = 5_000  # a stream newly read starts this far back (`start`)
# Seconds: a topic's stream (a live's, say) is let go this long after its last entry, where a
# shard's stays: a live ends, and its stream should not stay for ever.
TOPIC_TTL = 86_400
BLOCK_MAX = 30.0  # seconds a read may wait for entries (the reader's socket allows 10 s more)
# Every client's: keep-alives, and a server that does not answer in time is an error.
CLIENT_OPTIONS = {"socket_keepalive": True, "socket_connect_timeout": 5, "socket_timeout": 15}

Id = tuple[int, int]


def shard_of(user_id: int, shards: int) -> str:
    """The stream of `user_id`'s events, among `shards`."""
    return str(user_id % shards)


def is_topic(stream: str) -> bool:
    """A topic's stream (`live.7`), not a shard of users' or EVERYONE."""
    return "." in stream


def by_shard(user_ids: list[int], shards: int) -> dict[str, list[int]]:
    """`user_ids` split by their stream (`shard_of`), each in the order given: one pass, for the
    thousand recipients of a like."""
    split: dict[int, list[int]] = {}
    for user_id in user_ids:
        shard = user_id % shards  # shard_of's, without a call and a str per user
        if shard in split:
            split[shard].append(user_id)
        else:
            split[shard] = [user_id]
    return {str(shard): ids for shard, ids in split.items()}


def _identity(info: dict) -> str:
    """Which server answered, from its INFO (parsed): "" when it does not say."""
    run_id, history = info.get("run_id"), info.get("master_replid")
    return f"{run_id}/{history}" if run_id else ""


def parse_id(text: str) -> Id:
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


def format_id(value: Id) -> str:
    return f"{value[0]}-{value[1]}"


def start(now_ms: int | None = None) -> str:
    """Where a reader starts a stream when it cannot ask where the stream stands (`last_id`, its
    server away): BACKDATE_MS back, so that nothing added since is missed even if the worker's
    clock runs ahead of the server's. Events read twice are harmless: clients drop a `seq` they have."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    return format_id((max(0, now_ms - BACKDATE_MS), 0))


@dataclass
class Read:
    entries: list[tuple[str, str, str]] = field(default_factory=list)  # (stream, id, JSON text), in order per stream
    lost: set[str] = field(default_factory=set)  # streams trimmed past the reader's position


class MemoryStreams:
    """Redis Streams' semantics in one process: `add` from any thread, `read` on an event loop."""

    def __init__(self, maxlen: int):
        self.maxlen = maxlen
        self.streams: dict[str, list[tuple[Id, str]]] = {}  # oldest first
        self.deleted: dict[str, Id] = {}  # the newest id trimmed away, per stream
        self.topics_added: dict[str, float] = {}  # a topic's stream -> when it was last added to (monotonic)
        self.swept = time.monotonic()
        self.last: Id = (0, 0)
        self.lock = threading.Lock()
        self.waiting: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    async def add(self, payloads: dict[str, str]) -> None:
        self._add(payloads)

    def add_now(self, payloads: dict[str, str]) -> None:
        self._add(payloads)

    def _add(self, payloads: dict[str, str]) -> None:
        with self.lock:
            for stream, payload in payloads.items():
                ms = int(time.time() * 1000)
                self.last = (ms, 0) if ms > self.last[0] else (self.last[0], self.last[1] + 1)
                entries = self.streams.setdefault(stream, [])
                entries.append((self.last, payload))
                if len(entries) > self.maxlen + self.maxlen // 10:  # trimmed by tenths, as `MAXLEN ~` does
                    self.deleted[stream] = entries[-self.maxlen - 1][0]
                    del entries[: -self.maxlen]
                if is_topic(stream):
                    self.topics_added[stream] = time.monotonic()
            self._let_topics_go()
        self._wake_readers()

    def _let_topics_go(self) -> None:
        """Drop the topics' streams added to last TOPIC_TTL ago (looked at once a minute), as
        Redis lets their keys expire."""
        now = time.monotonic()
        if now - self.swept < 60:
            return
        self.swept = now
        for stream, added in list(self.topics_added.items()):
            if now - added >= TOPIC_TTL:
                del self.topics_added[stream]
                self.streams.pop(stream, None)
                self.deleted.pop(stream, None)

    async def last_id(self, stream: str) -> str:
        """A position after every entry added so far (to read only what comes next)."""
        with self.lock:
            return format_id(self.last)

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
        self._wake_readers()

    def _wake_readers(self) -> None:
        """End every blocked `read`, whichever thread and event loop it is on."""
        with self.lock:
            waiting, self.waiting = self.waiting, set()
        for loop, event in waiting:
            if not loop.is_closed():
                loop.call_soon_threadsafe(event.set)

    async def close(self) -> None:
        pass


@dataclass
class _LoopClients:
    writer: aioredis.Redis
    reader: aioredis.Redis  # one connection, which a blocked XREAD holds
    reader_id: int | None = None


class RedisStreams:
    """The streams in Redis (5 or later), keys `<prefix><stream>`.

    `add_now` (any thread) goes through a blocking client's pool; on an event loop `add` goes
    through that loop's pool and `read` through a connection of its own, which a blocked `XREAD`
    holds and `wake` unblocks (`CLIENT UNBLOCK`) when the streams to read change. Async clients
    belong to the event loop that made them (the tests run one loop per test)."""

    def __init__(self, url: str, maxlen: int, prefix: str = "miniapp:events:"):
        self.url, self.maxlen, self.prefix = url, maxlen, prefix
        self.blocking: redis.Redis | None = None
        self.loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopClients] = weakref.WeakKeyDictionary()
        self.lock = threading.Lock()
        self.server: str | None = None  # which server this process reads and asks (`_seen`)
        self.changed = False  # it may not be the one read before: the next read reports its streams lost

    def _clients(self) -> _LoopClients:
        loop = asyncio.get_running_loop()
        clients = self.loops.get(loop)
        if clients is None:
            options = {**CLIENT_OPTIONS, "redis_connect_func": self.connected}
            clients = _LoopClients(
                writer=aioredis.Redis.from_url(self.url, **options),
                # redis-py's default socket timeout (5 s) would end a read blocked as long.
                reader=aioredis.Redis.from_url(
                    self.url, single_connection_client=True, **{**options, "socket_timeout": BLOCK_MAX + 10}
                ),
            )
            self.loops[loop] = clients
        return clients

    async def connected(self, connection) -> None:
        """Each new connection of the reader and of `last_id` and `add` (redis-py's
        `redis_connect_func`, run however the connection came to be opened: redis-py opens
        another at the next command after a failed one, and the reader after any failed read):
        which server it reached (`_seen`)."""
        await connection.on_connect()
        try:
            await connection.send_command("INFO")
            info = str_if_bytes(await connection.read_response())
        except ResponseError:  # INFO refused (renamed, not permitted): the server cannot be told
            info = ""
        self._seen(_identity(dict(line.split(":", 1) for line in info.splitlines() if ":" in line)))

    def _seen(self, server: str) -> None:
        """The server answering now is `server`: its `run_id` (new at each start) and the
        replication history it holds (`master_replid`: new when a replica is promoted, or
        resyncs from a master that restarted). Another than the last one seen: what was added
        and not yet read may be gone (a Redis without a disk comes back empty), and the next
        `read` says its streams are lost. The same one: a connection that failed lost nothing,
        and the reader reads on from its positions. One that cannot be told ("") is taken for
        another. (A FLUSHALL, or a stream's key evicted, on a server that keeps running is not
        seen: it is an operator's act, and the streams' keys must not be evictable.)"""
        if not server or (self.server is not None and server != self.server):
            self.changed = True
        self.server = server

    def _unknown(self) -> None:
        """A command failed before this process learnt which server it reads: what it asked for
        (a position) may be on a server that will come back another; the next read says so."""
        if self.server is None:
            self.changed = True

    def _xadds(self, pipe, payloads: dict[str, str]) -> None:
        for stream, payload in payloads.items():
            pipe.xadd(self.prefix + stream, {"d": payload}, maxlen=self.maxlen, approximate=True)
            if is_topic(stream):
                pipe.expire(self.prefix + stream, TOPIC_TTL)

    def add_now(self, payloads: dict[str, str]) -> None:
        """One round trip, one `XADD ... MAXLEN ~` a stream, from any thread."""
        with self.lock:
            if self.blocking is None:
                self.blocking = redis.Redis.from_url(self.url, **CLIENT_OPTIONS)
        pipe = self.blocking.pipeline(transaction=False)
        self._xadds(pipe, payloads)
        pipe.execute()

    async def add(self, payloads: dict[str, str]) -> None:
        """`add_now` on the event loop."""
        async with self._clients().writer.pipeline(transaction=False) as pipe:
            self._xadds(pipe, payloads)
            await pipe.execute()

    async def last_id(self, stream: str) -> str:
        """A position after every entry added so far (to read only what comes next)."""
        try:
            info = await self._clients().writer.xinfo_stream(self.prefix + stream)
        except ResponseError:  # no such stream yet (or since a restart): everything to come
            return "0-0"
        except BaseException:
            self._unknown()
            raise
        value = info["last-generated-id"]
        return value.decode() if isinstance(value, bytes) else str(value)

    async def read(self, positions: dict[str, str], block: float) -> Read:
        """What follows `positions`, waiting up to `block` seconds; every stream read `lost`
        when the server is not the one read before. Raises the connection's error (the caller
        reads again later, from the same positions)."""
        clients = self._clients()
        if not positions:
            await asyncio.sleep(block)
            return Read()
        keys = {self.prefix + stream: position for stream, position in positions.items()}
        try:
            if clients.reader_id is None:  # the first read, or one after a failed one
                if clients.reader.connection is not None:
                    # A new connection, which asks which server it reached (`connected`): a
                    # failed read may have kept its own (a failover's UNBLOCKED error does).
                    await clients.reader.connection.disconnect()
                clients.reader_id = await clients.reader.client_id()
            answer = await clients.reader.xread(keys, count=COUNT, block=max(1, int(min(block, BLOCK_MAX) * 1000)))
        except BaseException:
            clients.reader_id = None  # a new connection next time, with an id of its own
            self._unknown()
            raise
        read = Read()
        full = []
        for key, entries in answer or ():
            stream = key.decode()[len(self.prefix) :]
            read.entries += [(stream, entry_id.decode(), fields[b"d"].decode()) for entry_id, fields in entries]
            if len(entries) == COUNT:
                full.append(stream)
        # A trim reaches past a reader only when the stream holds MAXLEN (>= COUNT) entries after
        # its position, so only a read that came back full can have lost some; it did if the
        # stream's oldest entry is now newer than the position. (Redis 7.0 keeps no record of
        # the newest entry a trim removed: this may report a loss when the trim stopped exactly at
        # the position, never miss one. A loss reported costs a catch-up from the database.)
        for stream in full:
            oldest = await clients.writer.xrange(self.prefix + stream, count=1)
            if oldest and parse_id(oldest[0][0].decode()) > parse_id(positions[stream]):
                read.lost.add(stream)
        if self.changed:  # (last: nothing awaited between taking it and returning it)
            self.changed = False
            read.lost |= set(positions)
        return read

    async def wake(self) -> None:
        """End this loop's blocked `read` now (the streams to read changed)."""
        clients = self.loops.get(asyncio.get_running_loop())
        if clients is not None and clients.reader_id is not None:
            await clients.writer.client_unblock(clients.reader_id)

    async def close(self) -> None:
        """Close this loop's clients (before the loop ends)."""
        clients = self.loops.pop(asyncio.get_running_loop(), None)
        if clients is not None:
            await clients.reader.aclose()
            await clients.writer.aclose()


class NotAdded(Exception):
    """Some of the entries were not added (their node did not answer): `rest`, {stream: text}."""

    def __init__(self, rest: dict[str, str]):
        super().__init__(f"not added to streams {sorted(rest)}")
        self.rest = rest


class NodeStreams:
    """The streams spread over several Redis servers (REALTIME_STREAM_URLS): stream `n` on node
    `n % len(nodes)`, EVERYONE on the first, each node a `RedisStreams`. A node that fails costs
    only its own streams: what is added to the others still goes (`NotAdded` names the rest),
    a read goes on with the others (the node is tried again after RETRY_SECONDS), and once it
    answers again its streams are read on from where they were; if it restarted meanwhile, its
    own read reports them `lost` (`RedisStreams.connected`), and their sockets catch up from the
    database. When every node fails the read raises, as one Redis's does."""

    RETRY_SECONDS = 1.0
    SETTLE_SECONDS = 1.0  # how long the other nodes' reads may take to end once one has answered

    def __init__(self, urls: list[str], maxlen: int, prefix: str = "miniapp:events:"):
        self.nodes = [RedisStreams(url, maxlen, prefix) for url in urls]
        self.down: dict[int, float] = {}  # node -> when to try its reads again (monotonic)

    def node_of(self, stream: str) -> int:
        if stream == EVERYONE:
            return 0
        if stream.isdigit():  # a shard of users
            return int(stream) % len(self.nodes)
        return zlib.crc32(stream.encode()) % len(self.nodes)  # a topic's (`events.send_to_topic_on_commit`)

    def _split(self, by_stream: dict[str, str]) -> dict[int, dict[str, str]]:
        split: dict[int, dict[str, str]] = {}
        for stream, value in by_stream.items():
            split.setdefault(self.node_of(stream), {})[stream] = value
        return split

    def _away(self, node: int) -> bool:
        """Failed a moment ago: not tried again before its time (what is for it waits)."""
        return self.down.get(node, 0) > time.monotonic()

    def _failed(self, node: int) -> None:
        self.down[node] = time.monotonic() + self.RETRY_SECONDS

    def add_now(self, payloads: dict[str, str]) -> None:
        rest = {}
        for node, part in self._split(payloads).items():
            if self._away(node):
                rest.update(part)
                continue
            try:
                self.nodes[node].add_now(part)
            except Exception:
                self._failed(node)
                rest.update(part)
        if rest:
            raise NotAdded(rest)

    async def add(self, payloads: dict[str, str]) -> None:
        split, rest = self._split(payloads), {}
        for node in [node for node in split if self._away(node)]:
            rest.update(split.pop(node))
        results = await asyncio.gather(
            *(self.nodes[node].add(part) for node, part in split.items()), return_exceptions=True
        )
        for (node, part), result in zip(split.items(), results, strict=True):
            if isinstance(result, BaseException):
                if not isinstance(result, Exception):
                    raise result  # a cancellation
                self._failed(node)
                rest.update(part)
        if rest:
            raise NotAdded(rest)

    async def last_id(self, stream: str) -> str:
        return await self.nodes[self.node_of(stream)].last_id(stream)

    async def read(self, positions: dict[str, str], block: float) -> Read:
        """Each node's `read` at once; what the first to answer brings, with what the others
        bring once woken (they are, at once)."""
        split = self._split(positions)
        due = {node: part for node, part in split.items() if not self._away(node)}
        if not due:  # every node with streams to read failed a moment ago
            await asyncio.sleep(max(0.0, min(self.down[node] for node in split) - time.monotonic()))
            due = split
        if len(due) < len(split):  # a node is away: come back to it in time
            block = min(block, self.RETRY_SECONDS)
        reads = {node: asyncio.create_task(self.nodes[node].read(part, block)) for node, part in due.items()}
        try:
            await asyncio.wait(reads.values(), return_when=asyncio.FIRST_COMPLETED)
            await self._settle(reads)
        except BaseException:
            for task in reads.values():
                task.cancel()
            raise
        read, errors = Read(), []
        for node, task in reads.items():
            error = task.exception() if not task.cancelled() else TimeoutError("the read did not end")
            if error is not None:
                if node not in self.down:
                    log.warning("stream node %d did not answer: its streams wait", node, exc_info=error)
                errors.append(error)
                self._failed(node)
                continue
            answered = task.result()
            read.entries += answered.entries
            read.lost |= answered.lost
            if self.down.pop(node, None) is not None:  # back (restarted: its read said its streams are lost)
                log.warning("stream node %d answers again", node)
        if errors and len(errors) == len(split):
            raise errors[0]
        return read

    async def _settle(self, reads: dict[int, asyncio.Task]) -> None:
        """End the reads still blocked (each node's `wake`); one that does not end in
        SETTLE_SECONDS (its node gone quiet) is cancelled, and counts as failed."""
        deadline = time.monotonic() + self.SETTLE_SECONDS
        while pending := [node for node, task in reads.items() if not task.done()]:
            if time.monotonic() > deadline:
                for node in pending:
                    reads[node].cancel()
                await asyncio.wait([reads[node] for node in pending])
                return
            for node in pending:
                # (A wake that fails leaves the read to end on its own, or to be cancelled above.)
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(0.2):
                        await self.nodes[node].wake()
            await asyncio.wait([reads[node] for node in pending], timeout=0.05)

    async def wake(self) -> None:
        for node in self.nodes:
            with contextlib.suppress(Exception):  # that node's read ends on its own
                await node.wake()

    async def close(self) -> None:
        for node in self.nodes:
            await node.close()
