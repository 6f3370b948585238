"""The activity socket: authenticate, replay what the client missed, then stream, for as
long as its session signs its user in.

Consumers only read: every write goes over HTTP.
"""

import asyncio
import json
import logging
from collections.abc import Awaitable
from datetime import datetime

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import timezone

from miniapp.engagement.selectors import activity_position, activity_replay
from miniapp.lib.channels_dispatch import DispatchWithoutTidying
from miniapp.realtime import frames
from miniapp.realtime.auth import origin_allowed, session_digest, session_state
from miniapp.realtime.hub import hub
from miniapp.realtime.resume import parse_after
from miniapp.realtime.schema import check_sent, hello_event, is_ping, pong_event, reload_event, replayed

log = logging.getLogger(__name__)

UNAUTHENTICATED = 4401  # signed out: at connect, or when the session ends (logout, password, ban, expiry)
FORBIDDEN_ORIGIN = 4403
# A binary frame: WebSocket's 1003 (unsupported data), in the range a server application may
# send (autobahn, under Daphne, refuses 1003 from one: it allows 1000 and 3000–4999).
UNSUPPORTED_DATA = 4003
UNEXPECTED = 1011  # the server could not greet the socket: the page tries again


def catch_up_rows(*, viewer_id: int, after: int, limit: int) -> tuple[list[dict], bool, int]:
    """Where the log stands now, and what the viewer may have missed since `after`."""
    position = activity_position(viewer_id=viewer_id, groups=True)
    events, complete = activity_replay(viewer_id=viewer_id, after=after, limit=limit, overlap=True, groups=True)
    return events, complete, position


class ActivityConsumer(DispatchWithoutTidying, AsyncWebsocketConsumer):
    # No channel-layer channel of its own: the worker's hub hands it events directly. With a
    # layer alias, Channels would open a channel per socket and keep a layer receive waiting
    # on it; on Redis, a thousand of those contend for one receive lock.
    channel_layer_alias = None
    user_id: int | None = None
    write_frame = None  # under Daphne: writes the hub's events straight to the connection (realtime.frames)
    synced = 0  # the log position up to which this socket is known to have everything
    session_key: str | None = None  # the session it was opened on
    session_id: str | None = None  # a digest of that key: how a sign-out names the session
    ended = False  # signed out or disconnected: nothing more is sent, nothing more is checked
    expiry: asyncio.TimerHandle | None = None  # checks the session again when it expires

    async def connect(self):
        # Accept first so that the refusal carries a close code the client can act on.
        await self.accept()
        user = self.scope.get("user")
        if not origin_allowed(self.scope):
            await self.close(code=FORBIDDEN_ORIGIN)
            return
        if user is None or not user.is_authenticated:
            await self.close(code=UNAUTHENTICATED)
            return
        self.user_id = user.pk
        self.session_key = self.scope["session"].session_key
        self.session_id = session_digest(self.session_key)
        self.checks: set[asyncio.Task] = set()
        self.write_frame = frames.writer(self.base_send)
        # Live events that arrive during the replay wait here, then go out in order.
        self.buffer: list[tuple[dict, str]] | None = []
        hub.register(self.user_id, self)
        try:
            await self.greet()
        except Exception:
            # The database away, say. Channels sends no disconnect after a connect that failed:
            # out of the hub here (else it would keep the socket, and every event for it), and
            # closed so that the page tries again.
            log.warning("a socket could not be greeted", exc_info=True)
            self.stop()
            await self.close(code=UNEXPECTED)

    async def greet(self) -> None:
        """The hello, then what the client missed (`?after=`), then the events that came meanwhile."""
        await hub.ready(self.user_id)  # the worker reads this user's stream: nothing added from now on is missed
        # The session may have ended since the middleware read it, its sign-out reaching the
        # hub before this socket did: read it again now that sign-outs reach the socket.
        if not await self.check_session():
            return
        position = await database_sync_to_async(activity_position)(viewer_id=self.user_id, groups=True)
        # Where the log stands: a client that had no id resumes from here next time, and
        # a catch-up (`catch_up`) starts from here.
        self.synced = position
        await self.send_event(hello_event(last_id=position))
        after = parse_after(self.scope)
        sent: set[int] = set()  # the seqs replayed
        if after is not None:
            events, complete = await database_sync_to_async(activity_replay)(
                viewer_id=self.user_id, after=after, limit=settings.ACTIVITY_REPLAY_LIMIT, overlap=True, groups=True
            )
            if complete:
                for event in events:
                    sent.add(event["seq"])
                    await self.send_event(replayed(event))
            else:
                # Too much to replay: the client reloads its feed from the API instead.
                await self.send_event(reload_event(last_id=position))
        pending, self.buffer = self.buffer, None
        for event, text in pending:
            if event.get("seq") not in sent:  # live while the replay ran: send once
                await self.send(text_data=text)

    async def disconnect(self, code):
        self.stop()

    def stop(self) -> None:
        """Out of the hub, no timer left holding the socket: nothing more reaches it."""
        self.ended = True
        if self.user_id is not None:
            hub.unregister(self.user_id, self)
        if self.expiry is not None:
            self.expiry.cancel()
            self.expiry = None

    async def send_event(self, event: dict) -> None:
        """Send one of the socket's own frames (hello, reload, pong, a replay); the hub's live
        events come through `push`, checked when they were published."""
        check_sent(event)
        await self.send(text_data=json.dumps(event, ensure_ascii=False))

    async def send(self, text_data=None, bytes_data=None, close=False):
        if not self.ended:  # a socket signed out gets nothing after its close
            await super().send(text_data=text_data, bytes_data=bytes_data, close=close)

    def sign_out(self) -> None:
        """The hub's call when this socket's session ended: close it (4401) now."""
        if not self.ended:
            self.stop()
            self.spawn(self.close(code=UNAUTHENTICATED))

    def session_changed(self) -> None:
        """The hub's call when the user's sessions may have ended (a password change, a ban):
        ask the database whether this one still signs the user in."""
        if not self.ended:
            self.spawn(self.check_session())

    def spawn(self, coroutine) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self.checks.add(task)  # the loop keeps only a weak reference to a task
        task.add_done_callback(self.checks.discard)

    async def check_session(self) -> bool:
        """Close the socket (4401) unless its session still signs its user in, as a new socket
        on it would find (`auth.session_state`); else look again when the session expires."""
        if self.ended:
            return False
        try:
            user_id, expires = await session_state(self.session_key)
        except Exception:  # the database away: the worker's next session check tries again
            log.warning("could not check a socket's session", exc_info=True)
            return True
        if self.ended:
            return False
        if user_id != self.user_id:
            self.stop()
            await self.close(code=UNAUTHENTICATED)
            return False
        self.expire_at(expires)
        return True

    def expire_at(self, expires: datetime | None) -> None:
        if self.expiry is not None:
            self.expiry.cancel()
            self.expiry = None
        if expires is not None:
            loop = asyncio.get_running_loop()
            # A moment after: the check must find the session expired, not about to be.
            delay = (expires - timezone.now()).total_seconds() + 0.5
            self.expiry = loop.call_later(max(delay, 0), self.session_changed)

    def push(self, event: dict, message: frames.Message) -> Awaitable[None] | None:
        """Called by the hub for every live event addressed to this user. Returns what the
        hub must await, if anything: a send through ASGI where the frame cannot be written
        straight to the connection.

        Live events may arrive out of log order (each request publishes after its own
        commit), so nothing is dropped here for having a lower id than the last one.
        """
        if self.ended:
            return None
        if self.buffer is not None:
            self.buffer.append((event, message.text))
        elif self.write_frame is not None:
            self.write_frame(message)
        else:
            return self.send(text_data=message.text)
        return None

    async def catch_up(self) -> None:
        """Called by the hub when it missed a message: send again everything since the
        last point this socket was known to be complete. The client drops what it already
        has (by `seq`), so each event shows once."""
        if self.user_id is None or self.buffer is not None or self.ended:
            return  # not streaming yet: the replay under way covers it
        # What the hub missed may have been a sign-out.
        if not await self.check_session():
            return
        events, complete, position = await database_sync_to_async(catch_up_rows)(
            viewer_id=self.user_id, after=self.synced, limit=settings.ACTIVITY_REPLAY_LIMIT
        )
        if complete:
            for event in events:
                await self.send_event(replayed(event))
        else:
            await self.send_event(reload_event(last_id=position))
        self.synced = max(self.synced, position)

    async def receive(self, text_data=None, bytes_data=None):
        if bytes_data is not None:
            self.stop()
            await self.close(code=UNSUPPORTED_DATA)
            return
        if is_ping(text_data):
            await self.send_event(pong_event())
