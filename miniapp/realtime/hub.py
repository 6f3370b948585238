"""The process-local hand-off from the channel layer to this worker's sockets.

Stock Channels would send one channel-layer message per friend per like, and pay
for each a layer receive, a thread hop and a dispatch in every consumer. Here each
worker runs one listener on the broadcast group: a like costs one layer message
per worker, and the listener writes the event straight to every local socket of
its recipients.
"""

import asyncio
import json
import logging
from collections import defaultdict

from channels.layers import get_channel_layer

from miniapp.realtime.events import BROADCAST_GROUP, MESSAGE_TYPE

log = logging.getLogger(__name__)

# Join the broadcast group again this often (a restarted Redis may have lost it).
REJOIN_SECONDS = 30
YIELD_EVERY = 50
JOIN_TIMEOUT = 5  # seconds a new socket waits for this worker to join the broadcast group


class Hub:
    def __init__(self):
        self.sockets: dict[int, set] = defaultdict(set)
        self.listener: asyncio.Task | None = None
        self.joined: asyncio.Event | None = None  # set once the listener is in the group

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
            self.listener = loop.create_task(self.listen())

    async def ready(self, timeout: float = JOIN_TIMEOUT) -> bool:
        """Wait until this worker's listener has joined the broadcast group (with Redis a
        round trip; instant in memory), so what is published from now on reaches it.
        False if the layer did not answer in time: the socket still works, and its
        replay and the client's catch-up fill what the push missed."""
        self.ensure_listening()
        try:
            await asyncio.wait_for(self.joined.wait(), timeout)
        except TimeoutError:
            log.warning("the hub has not joined the broadcast group after %s s", timeout)
            return False
        return True

    async def listen(self) -> None:
        layer = get_channel_layer()
        # The default prefix: channels_redis reads all of a process's channels from one
        # Redis list, and a channel of another prefix would wait behind the consumers' reads.
        channel = await layer.new_channel()
        await layer.group_add(BROADCAST_GROUP, channel)
        self.joined.set()
        keeper = asyncio.create_task(self.keep_joined(layer, channel))
        try:
            while True:
                try:
                    message = await layer.receive(channel)
                except asyncio.CancelledError:
                    raise
                except Exception:  # a layer hiccup (e.g. Redis restarting): wait, then go on
                    log.exception("hub receive failed")
                    await asyncio.sleep(1)
                    continue
                if message.get("type") == MESSAGE_TYPE:
                    await self.deliver(message["recipients"], message["event"])
        finally:
            keeper.cancel()

    async def keep_joined(self, layer, channel: str) -> None:
        """Join the group again and again: layers forget members after a day, and a Redis
        restarted without its data forgets them at once. Meanwhile sockets catch up from
        the database when they reconnect."""
        while True:
            await asyncio.sleep(REJOIN_SECONDS)
            try:
                await layer.group_add(BROADCAST_GROUP, channel)
            except Exception:
                log.warning("the hub could not join the broadcast group again", exc_info=True)

    async def deliver(self, recipients: list[int] | None, event: dict) -> None:
        """Write `event` to the local sockets of `recipients` (None: every local socket)."""
        text = None
        sent = 0
        for user_id in tuple(self.sockets) if recipients is None else recipients:
            for socket in tuple(self.sockets.get(user_id, ())):
                if text is None:
                    text = json.dumps(event, ensure_ascii=False)
                try:
                    await socket.push(event, text)
                except Exception:  # a socket closing under us must not stop the others
                    log.debug("push to a closing socket failed", exc_info=True)
                sent += 1
                if sent % YIELD_EVERY == 0:
                    # Let the loop flush what is queued (and serve the liker's own
                    # response) instead of holding every write until the last socket.
                    await asyncio.sleep(0)


hub = Hub()
