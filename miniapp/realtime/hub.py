"""The process-local hand-off from the event streams to this worker's sockets.

Stock Channels would send one channel-layer message per friend per like, and pay for each a
layer receive, a thread hop and a dispatch in every consumer. Here each worker runs one reader
(`listen`) on the event streams (`realtime.streams`): it reads only the streams of the users
whose sockets it holds (their shards, and `EVERYONE` while it holds any), from where it last
read, and writes each event straight to the local sockets of its recipients. An event costs a
worker nothing unless it holds one of its recipients.

The push is a hint, the database the record: when the hub may have missed entries (a stream
trimmed past its position, a Redis that restarted or was replaced under it), the sockets
concerned catch up from the database (`ActivityConsumer.catch_up`). A read that failed on a
server that stays up loses nothing: the hub reads again from where it was. A stream the hub starts to read (a
socket of a user in a new shard) is read from where it stood before the socket's own replay from
the database: what came before is in the replay, what comes after is read.

Topics ride the same streams: a part that keeps state for its sockets (a live room's, `lives.room_worker`)
follows its topic (`follow`), hears each message sent to it on any worker
(`events.send_to_topic_on_commit`) and, when the hub may have missed some, hears None: it then reads
the record itself.

A session that ends closes its sockets through the same streams (`events.send_signout_on_commit`),
and every SOCKET_SESSION_CHECK_SECONDS (and after a loss) each hub checks its sockets' sessions
as a new socket's would be, for those that ended with nobody saying so.
"""

import asyncio
import contextvars
import json
import logging
from collections import Counter, defaultdict
from collections.abc import Callable

from channels.db import database_sync_to_async
from django.conf import settings

from miniapp.realtime import events, streams
from miniapp.realtime.auth import sessions_signed_in
from miniapp.realtime.frames import Message

log = logging.getLogger(__name__)

RETRY_SECONDS = 1  # while Redis is away, try it again this often
READ_BLOCK = 5.0  # seconds a read waits for entries before it looks at what to read again
READY_TIMEOUT = 5  # seconds a new socket waits to learn where its stream stands
YIELD_EVERY = 50


def stop_if_cancelled() -> None:
    """Raise CancelledError if this task was asked to stop. A library may turn the
    cancellation into an error of its own (redis-py: a TimeoutError); a loop that took
    that for a hiccup and went on would never stop, and its event loop never close."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


class Hub:
    def __init__(self):
        self.sockets: dict[int, set] = defaultdict(set)
        self.held: Counter[str] = Counter()  # stream -> how many users of it have sockets here
        self.followers: dict[str, set[Callable[[dict | None], None]]] = {}  # topic -> who hears it
        self.listener: asyncio.Task | None = None
        self.sweeper: asyncio.Task | None = None
        self.positions: dict[str, str] = {}  # stream -> the id of the last entry read (or where to start)
        self.changed: asyncio.Event | None = None  # set when the streams to read may have changed
        self.catching_up: asyncio.Task | None = None
        self.catch_up_users: set[int] | None = set()  # whom the next catch-up is for (None: everyone)

    def register(self, user_id: int, socket) -> None:
        """A socket of `user_id` here: its events reach it once `ready` returns."""
        if user_id not in self.sockets:
            self.held[events.stream_of(user_id)] += 1
        self.sockets[user_id].add(socket)
        self.ensure_listening()

    def unregister(self, user_id: int, socket) -> None:
        sockets = self.sockets.get(user_id)
        if sockets is not None:
            sockets.discard(socket)
            if not sockets:
                del self.sockets[user_id]
                self.held -= Counter({events.stream_of(user_id): 1})  # (drops a stream at 0)

    def wanted(self) -> set[str]:
        """The streams this worker reads: its users' shards, the topics followed here, and
        EVERYONE while it has either. (Kept up by `register`, `unregister`, `follow` and
        `unfollow`: the reader asks before each read.)"""
        wanted = set(self.held) | self.followers.keys()
        return wanted | {streams.EVERYONE} if wanted else wanted

    async def follow(self, topic: str, heard: Callable[[dict | None], None], timeout: float = READY_TIMEOUT) -> bool:
        """From now on `heard(message)`, on this loop, for each message sent to `topic`
        (`events.send_to_topic_on_commit`), in order; `heard(None)` when some may have been missed
        (the follower then reads the record), and while the streams cannot be read (Redis away:
        what is sent meanwhile arrives when it is back, and the record has it now). Returns once
        the topic is read from where it stands now at the latest: what the follower reads of the
        record next misses nothing sent after. False as for `ready`."""
        self.ensure_listening()
        self.followers.setdefault(topic, set()).add(heard)
        return await self._read_from_now([topic], timeout)

    def unfollow(self, topic: str, heard: Callable[[dict | None], None]) -> None:
        followers = self.followers.get(topic)
        if followers is not None:
            followers.discard(heard)
            if not followers:
                del self.followers[topic]

    def topics_missed(self, lost: set[str] | None) -> None:
        """Tell the followers of the topics in `lost` (None: every topic) that they may have
        missed messages."""
        for topic in tuple(self.followers) if lost is None else self.followers.keys() & lost:
            self.tell(topic, [None])

    def tell(self, topic: str, messages: list[dict | None]) -> None:
        """Hand a topic's messages (None: some were missed) to its followers here."""
        for heard in tuple(self.followers.get(topic, ())):
            for message in messages:
                try:
                    heard(message)
                except Exception:  # one follower's error must not stop the reader
                    log.exception("a follower of %s could not take a message", topic)

    def ensure_listening(self) -> None:
        loop = asyncio.get_running_loop()
        # A new event loop (tests start one per test) needs its own reader.
        if self.listener is None or self.listener.done() or self.listener.get_loop() is not loop:
            self.positions = {}
            self.changed = asyncio.Event()
            self.catching_up = None
            self.catch_up_users = set()
            # A context of its own: the reader outlives the socket that started it.
            self.listener = loop.create_task(self.listen(), context=contextvars.Context())
            self.sweeper = loop.create_task(self.check_sessions(), context=contextvars.Context())

    def wake(self) -> None:
        """Have the reader look at what to read now, not at the end of its blocked read."""
        self.changed.set()
        if self.listener is not None and not self.listener.done() and self.positions:
            task = asyncio.get_running_loop().create_task(self._wake())
            _waking.add(task)
            task.add_done_callback(_waking.discard)

    async def _wake(self) -> None:
        try:
            await events.bus().wake()
        except Exception:  # the reader finds the new stream at its next read all the same
            log.debug("could not wake the hub's reader", exc_info=True)

    async def stop(self) -> None:
        """Stop reading and forget the sockets (the tests, before their event loop ends); the
        bus's clients of this loop are closed too."""
        tasks = [
            task for task in (self.listener, self.sweeper, self.catching_up) if task is not None and not task.done()
        ]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5)
        await events.bus().close()
        self.listener = self.sweeper = self.catching_up = None
        self.positions = {}
        self.sockets.clear()
        self.held.clear()
        self.followers.clear()

    async def ready(self, user_id: int, timeout: float = READY_TIMEOUT) -> bool:
        """Make sure `user_id`'s stream is read from where it stands now at the latest, so that
        what is added from now on reaches this worker: a socket then replays from the database
        what came before. False if the streams' server did not answer in time: the stream is
        then read from a few seconds back (`streams.start`), and the client drops what it sees
        twice."""
        self.ensure_listening()
        return await self._read_from_now([events.stream_of(user_id)], timeout)

    async def _read_from_now(self, wanted: list[str], timeout: float = READY_TIMEOUT) -> bool:
        new = [stream for stream in (*wanted, streams.EVERYONE) if stream not in self.positions]
        if not new:
            return True
        answered = True
        for stream in new:
            try:
                async with asyncio.timeout(timeout):
                    position = await events.bus().last_id(stream)
            except Exception:
                log.warning("could not ask where stream %s stands", stream, exc_info=True)
                position, answered = streams.start(), False
            self.positions.setdefault(stream, position)
        self.wake()
        return answered

    async def listen(self) -> None:
        bus = events.bus()
        while True:
            wanted = self.wanted()  # (streams are added by `ready`, from where they stand)
            for stream in self.positions.keys() - wanted:
                del self.positions[stream]
            self.changed.clear()
            if not self.positions:  # no socket here: nothing to read until one comes
                await self.changed.wait()
                continue
            try:
                read = await bus.read(dict(self.positions), block=READ_BLOCK)
            except asyncio.CancelledError:
                raise
            except Exception:  # Redis away: read again from the same positions
                # (A server that restarted meanwhile is another server: the read that reaches
                # it says its streams are lost, and their sockets catch up then.)
                stop_if_cancelled()
                log.warning("the hub could not read the event streams", exc_info=True)
                self.topics_missed(None)  # their followers read the record meanwhile
                await asyncio.sleep(RETRY_SECONDS)
                continue
            if events.unsent.entries:  # what this process failed to add: the server answers again
                try:
                    await events.add_unsent()
                except Exception:
                    log.warning("the hub could not add what failed to go", exc_info=True)
            if read.lost:
                log.warning(
                    "the hub fell behind streams %s: their sockets catch up from the database", sorted(read.lost)
                )
                self.start_catch_up(None if streams.EVERYONE in read.lost else read.lost)
            frames: dict[tuple, tuple[dict, Message]] = {}  # an event in several streams' entries is framed once
            for stream, entry_id, text in read.entries:
                if stream in self.positions:
                    self.positions[stream] = entry_id
                try:
                    await self.take(json.loads(text), frames)
                except Exception:  # one bad entry must not stop the reader
                    log.exception("the hub could not take an entry of stream %s", stream)

    async def take(self, payload: dict, frames: dict | None = None) -> None:
        """What one stream entry asks: events to deliver, a sign-out, or a catch-up (a process
        failed to add too much for too long)."""
        if payload.get("catch_up"):
            self.start_catch_up(None)
        for recipients, batch in payload.get("deliveries", ()):
            if isinstance(recipients, str):
                self.tell(recipients, batch)
                continue
            for event in batch:
                await self.deliver(recipients, event, frames)
        if "signout" in payload:
            user_id, session = payload["signout"]
            self.sign_out(user_id, session)

    def start_catch_up(self, lost: set[str] | None) -> None:
        """Have the sockets of the users in the `lost` streams (None: every socket) catch up, and
        the followers of the topics among them (`topics_missed`) read the record."""
        self.topics_missed(lost)
        if lost is None:
            self.catch_up_users = None
        elif self.catch_up_users is not None:
            self.catch_up_users |= {user for user in self.sockets if events.stream_of(user) in lost}
        if self.catching_up is not None and not self.catching_up.done():
            return  # it takes the newer ones when it is done with these
        loop = asyncio.get_running_loop()
        self.catching_up = loop.create_task(self.catch_up(), context=contextvars.Context())

    async def catch_up(self) -> None:
        """Have the sockets that may have missed entries send what they missed (the client drops
        duplicates). A lost entry may have been a sign-out: the sessions are checked first."""
        while self.catch_up_users is None or self.catch_up_users:
            users, self.catch_up_users = self.catch_up_users, set()
            await self.sweep_sessions()
            for user_id in tuple(self.sockets) if users is None else users:
                for socket in tuple(self.sockets.get(user_id, ())):
                    try:
                        await socket.catch_up()
                    except Exception:
                        log.warning("a socket could not catch up", exc_info=True)

    def sign_out(self, user_id: int, session: str | None) -> None:
        """Close the user's local sockets on `session` (its digest); with None, have each of
        them check its session and close if it no longer signs the user in."""
        for socket in tuple(self.sockets.get(user_id, ())):
            if session is None:
                socket.session_changed()
            elif socket.session_id == session:
                socket.sign_out()

    async def check_sessions(self) -> None:
        """Every SOCKET_SESSION_CHECK_SECONDS, `sweep_sessions`: the sign-outs nobody announced."""
        while True:
            await asyncio.sleep(settings.SOCKET_SESSION_CHECK_SECONDS)
            await self.sweep_sessions()

    async def sweep_sessions(self) -> None:
        """Close the sockets whose session no longer signs their user in, with nobody having said
        so: the session deleted on the server (`clearsessions`, a flush from the shell) or
        expired (each socket also has a timer for that), the user made inactive or their
        password changed by a bulk update, a sign-out message lost. The same check as a new
        socket's (`auth.sessions_signed_in`), for all local sockets in a few queries."""
        sockets = [socket for sockets in tuple(self.sockets.values()) for socket in tuple(sockets)]
        if not sockets:
            return
        try:
            signed_in = await database_sync_to_async(sessions_signed_in)({socket.session_key for socket in sockets})
        except Exception:
            stop_if_cancelled()
            log.warning("the hub could not check its sockets' sessions", exc_info=True)
            return
        for socket in sockets:
            if signed_in.get(socket.session_key) != socket.user_id:
                socket.sign_out()

    async def deliver(self, recipients: list[int] | None, event: dict, frames: dict | None = None) -> None:
        """Write `event` to the local sockets of `recipients` (None: every local socket).

        Its text and WebSocket frame are made once, for all of them (realtime.frames), and, with
        `frames`, once for all the entries of a read that carry it (a log entry's event, by its
        type and `seq`)."""
        message = None
        key = (event["type"], event["seq"]) if frames is not None and "seq" in event else None
        sent = 0
        for user_id in tuple(self.sockets) if recipients is None else recipients:
            for socket in tuple(self.sockets.get(user_id, ())):
                if message is None:
                    framed, message = frames.get(key, (None, None)) if key is not None else (None, None)
                    if framed != event:  # (the same event, not only the same seq)
                        message = Message(json.dumps(event, ensure_ascii=False))
                        if key is not None:
                            frames[key] = (event, message)
                try:
                    pending = socket.push(event, message)
                    if pending is not None:
                        await pending
                except Exception:  # a socket closing under us must not stop the others
                    log.debug("push to a closing socket failed", exc_info=True)
                sent += 1
                if sent % YIELD_EVERY == 0:
                    # Let the loop flush what is queued (and serve the liker's own
                    # response) instead of holding every write until the last socket.
                    await asyncio.sleep(0)


_waking: set[asyncio.Task] = set()
hub = Hub()
