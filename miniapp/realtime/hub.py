"""The process-local hand-off from the channel layer to this worker's sockets.

Stock Channels would send one channel-layer message per friend per like, and pay
for each a layer receive, a thread hop and a dispatch in every consumer. Here each
worker runs one listener on the broadcast group: a like costs one layer message
per worker, and the listener writes the event straight to every local socket of
its recipients.

The push is a hint, the database the record: when the hub learns that it missed a
message (a gap in a publisher's numbers, or the layer failing under it), every local
socket catches up from the database (`ActivityConsumer.catch_up`).

Each hub also sends a heartbeat through the group every BEAT_SECONDS, saying up to
which number its process is done. A message lost while the layer was away (a publish
that failed, or one sent while this worker's subscription was being restored) then
shows as a gap within a beat, even when no event follows, and whichever layer is in use:
the pub/sub layer reconnects on its own and never lets a failure reach `receive`.

A session that ends closes its sockets through the same group (`events.send_signout_on_commit`),
and every SOCKET_SESSION_CHECK_SECONDS (and after a lost message) each hub checks its sockets'
sessions as a new socket's would be, for those that ended with nobody saying so.
"""

import asyncio
import contextvars
import json
import logging
from collections import defaultdict

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from miniapp.realtime.auth import sessions_signed_in
from miniapp.realtime.events import BEAT_TYPE, BROADCAST_GROUP, MESSAGE_TYPE, SIGNOUT_TYPE, beat_message
from miniapp.realtime.frames import Message
from miniapp.realtime.gaps import Gaps

log = logging.getLogger(__name__)

# Join the broadcast group again this often (a restarted Redis may have lost it).
REJOIN_SECONDS = 30
RETRY_SECONDS = 1  # while the layer is away, try it again this often
BEAT_SECONDS = 1.0  # a heartbeat through the group: a lost message shows within this (and Gaps' grace)
YIELD_EVERY = 50
JOIN_TIMEOUT = 5  # seconds a new socket waits for this worker to join the broadcast group


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
        self.listener: asyncio.Task | None = None
        self.joined: asyncio.Event | None = None  # set once the listener is in the group
        self.gaps = Gaps()
        self.gap_timer: asyncio.TimerHandle | None = None
        self.catching_up: asyncio.Task | None = None
        self.catch_up_again = False

    def register(self, user_id: int, socket) -> None:
        self.sockets[user_id].add(socket)
        self.ensure_listening()

    def unregister(self, user_id: int, socket) -> None:
        sockets = self.sockets.get(user_id)
        if sockets is not None:
            sockets.discard(socket)
            if not sockets:
                del self.sockets[user_id]

    def ensure_listening(self) -> None:
        loop = asyncio.get_running_loop()
        # A new event loop (tests start one per test) needs its own listener.
        if self.listener is None or self.listener.done() or self.listener.get_loop() is not loop:
            self.joined = asyncio.Event()
            self.gaps = Gaps()
            self.gap_timer = self.catching_up = None
            # A context of its own: the listener outlives the socket that started it.
            self.listener = loop.create_task(self.listen(), context=contextvars.Context())

    async def stop(self) -> None:
        """Stop listening and forget the sockets (the tests, before their event loop ends).

        The core layer's connections are closed too: a read blocked in Redis then fails at
        once instead of holding the listener until Redis answers. (The pub/sub layer closes
        its own when the event loop closes.)"""
        tasks = [task for task in (self.listener, self.catching_up) if task is not None and not task.done()]
        if self.gap_timer is not None:
            self.gap_timer.cancel()
        for task in tasks:
            task.cancel()
        close = getattr(get_channel_layer(), "close_pools", None)
        if close is not None:
            await close()
        if tasks:
            await asyncio.wait(tasks, timeout=5)
        self.listener = self.catching_up = self.gap_timer = None
        self.sockets.clear()

    async def ready(self, timeout: float = JOIN_TIMEOUT) -> bool:
        """Wait until this worker's listener has joined the broadcast group (with Redis a
        round trip; instant in memory), so what is published from now on reaches it.
        False if the layer did not answer in time: the socket still works, and its
        replay and the client's catch-up fill what the push missed."""
        self.ensure_listening()
        try:
            # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow a cancellation.
            async with asyncio.timeout(timeout):
                await self.joined.wait()
        except TimeoutError:
            log.warning("the hub has not joined the broadcast group after %s s", timeout)
            return False
        return True

    async def listen(self) -> None:
        layer = get_channel_layer()
        # The default prefix: channels_redis reads all of a process's channels from one
        # Redis list, and a channel of another prefix would wait behind the consumers' reads.
        channel = await layer.new_channel()
        try:
            await layer.group_add(BROADCAST_GROUP, channel)
        except Exception:  # the layer is away: join on this same channel once it answers
            stop_if_cancelled()  # (a channel given up on may stay in the pub/sub layer's group)
            log.warning("the hub could not join the broadcast group", exc_info=True)
            await self.rejoin(layer, channel)
        self.joined.set()
        helpers = [
            asyncio.create_task(self.keep_joined(layer, channel)),
            asyncio.create_task(self.beat(layer)),
            asyncio.create_task(self.check_sessions()),
        ]
        try:
            while True:
                try:
                    message = await layer.receive(channel)
                except asyncio.CancelledError:
                    raise
                except Exception:  # the layer failed (e.g. Redis restarting)
                    stop_if_cancelled()
                    log.exception("hub receive failed")
                    await self.rejoin(layer, channel)
                    # What was published meanwhile never reached this worker.
                    self.start_catch_up()
                    continue
                kind, now = message.get("type"), asyncio.get_running_loop().time()
                if kind == MESSAGE_TYPE:
                    self.gaps.saw(message.get("origin"), message.get("n"), now)
                    for recipients, events in message["deliveries"]:
                        for event in events:
                            await self.deliver(recipients, event)
                    self.check_gaps()
                elif kind == SIGNOUT_TYPE:
                    self.gaps.saw(message.get("origin"), message.get("n"), now)
                    self.sign_out(message["user"], message.get("session"))
                    self.check_gaps()
                elif kind == BEAT_TYPE:
                    self.gaps.sent_up_to(message.get("origin"), message.get("done"), now)
                    self.check_gaps()
        finally:
            for helper in helpers:
                helper.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)

    async def rejoin(self, layer, channel: str) -> None:
        """Join the group again once the layer answers (a restarted Redis has forgotten it)."""
        while True:
            await asyncio.sleep(RETRY_SECONDS)
            try:
                await layer.group_add(BROADCAST_GROUP, channel)
            except Exception:
                stop_if_cancelled()
                log.warning("the channel layer is still unreachable", exc_info=True)
            else:
                log.info("the hub is back in the broadcast group")
                return

    def check_gaps(self) -> None:
        """Catch up if a message is lost; look again later if one is only late so far."""
        if self.gap_timer is not None:
            self.gap_timer.cancel()
            self.gap_timer = None
        loop = asyncio.get_running_loop()
        if self.gaps.overdue(loop.time()):
            log.warning("the hub missed a message: its sockets catch up from the database")
            self.start_catch_up()
        elif self.gaps.waiting():
            self.gap_timer = loop.call_later(self.gaps.grace, self.check_gaps)

    def start_catch_up(self) -> None:
        if self.catching_up is not None and not self.catching_up.done():
            self.catch_up_again = True  # sockets already done may have missed the newer loss
            return
        loop = asyncio.get_running_loop()
        self.catching_up = loop.create_task(self.catch_up(), context=contextvars.Context())

    async def catch_up(self) -> None:
        """Have every local socket send what it may have missed (the client drops duplicates).
        A lost message may have been a sign-out: the sessions are checked first."""
        while True:
            self.catch_up_again = False
            await self.sweep_sessions()
            for sockets in tuple(self.sockets.values()):
                for socket in tuple(sockets):
                    try:
                        await socket.catch_up()
                    except Exception:
                        log.warning("a socket could not catch up", exc_info=True)
            if not self.catch_up_again:
                return

    async def keep_joined(self, layer, channel: str) -> None:
        """Join the group again and again: layers forget members after a day, and a Redis
        restarted without its data forgets them at once. Meanwhile sockets catch up from
        the database when they reconnect."""
        while True:
            await asyncio.sleep(REJOIN_SECONDS)
            try:
                await layer.group_add(BROADCAST_GROUP, channel)
            except Exception:
                stop_if_cancelled()
                log.warning("the hub could not join the broadcast group again", exc_info=True)

    async def beat(self, layer) -> None:
        """A heartbeat from this process to every hub, this one included: up to which number
        it is done (`events.beat_message`). A publish that failed is done too, so the first
        beat that gets through after it shows the gap, with no event after it."""
        while True:
            await asyncio.sleep(BEAT_SECONDS)
            try:
                await layer.group_send(BROADCAST_GROUP, beat_message())
            except Exception:
                stop_if_cancelled()
                log.debug("the hub's heartbeat did not go out", exc_info=True)

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

    async def deliver(self, recipients: list[int] | None, event: dict) -> None:
        """Write `event` to the local sockets of `recipients` (None: every local socket).

        Its text and WebSocket frame are made once, for all of them (realtime.frames)."""
        message = None
        sent = 0
        for user_id in tuple(self.sockets) if recipients is None else recipients:
            for socket in tuple(self.sockets.get(user_id, ())):
                if message is None:
                    message = Message(json.dumps(event, ensure_ascii=False))
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


hub = Hub()
