"""The activity socket: authenticate, replay what the client missed, then stream.

Consumers only read: every write goes over HTTP.
"""

import json
from collections.abc import Awaitable
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from miniapp.engagement.selectors import activity_position, activity_replay
from miniapp.realtime import frames
from miniapp.realtime.auth import origin_allowed
from miniapp.realtime.hub import hub

UNAUTHENTICATED = 4401
FORBIDDEN_ORIGIN = 4403
# A binary frame: WebSocket's 1003 (unsupported data), in the range a server application may
# send (autobahn, under Daphne, refuses 1003 from one: it allows 1000 and 3000–4999).
UNSUPPORTED_DATA = 4003


def parse_after(scope) -> int | None:
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("after")
    if not values:
        return None
    try:
        after = int(values[0])
    except ValueError:
        return None  # garbage: treated as "no replay" (documented in README)
    return after if after >= 0 else None


def catch_up_rows(*, viewer_id: int, after: int, limit: int) -> tuple[list[dict], bool, int]:
    """Where the log stands now, and what the viewer may have missed since `after`."""
    position = activity_position(viewer_id=viewer_id)
    events, complete = activity_replay(viewer_id=viewer_id, after=after, limit=limit, overlap=True)
    return events, complete, position


class ActivityConsumer(AsyncWebsocketConsumer):
    # No channel-layer channel of its own: the worker's hub hands it events directly. With a
    # layer alias, Channels would open a channel per socket and keep a layer receive waiting
    # on it; on Redis, a thousand of those contend for one receive lock.
    channel_layer_alias = None
    user_id: int | None = None
    write_frame = None  # under Daphne: writes the hub's events straight to the connection (realtime.frames)
    synced = 0  # the log position up to which this socket is known to have everything

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
        self.write_frame = frames.writer(self.base_send)
        # Live events that arrive during the replay wait here, then go out in order.
        self.buffer: list[tuple[dict, str]] | None = []
        hub.register(self.user_id, self)
        await hub.ready()  # the worker's listener is in the group: nothing published from now on is missed
        position = await database_sync_to_async(activity_position)(viewer_id=self.user_id)
        # Where the log stands: a client that had no id resumes from here next time, and
        # a catch-up (`catch_up`) starts from here.
        self.synced = position
        await self.send(text_data=json.dumps({"type": "hello", "last_id": position}))
        after = parse_after(self.scope)
        replayed: set[int] = set()
        if after is not None:
            events, complete = await database_sync_to_async(activity_replay)(
                viewer_id=self.user_id, after=after, limit=settings.ACTIVITY_REPLAY_LIMIT, overlap=True
            )
            if complete:
                for event in events:
                    replayed.add(event["seq"])
                    await self.send(text_data=json.dumps({**event, "replay": True}, ensure_ascii=False))
            else:
                # Too much to replay: the client reloads its feed from the API instead.
                await self.send(text_data=json.dumps({"type": "reload", "last_id": position}))
        pending, self.buffer = self.buffer, None
        for event, text in pending:
            if event.get("seq") not in replayed:  # live while the replay ran: send once
                await self.send(text_data=text)

    async def disconnect(self, code):
        if self.user_id is not None:
            hub.unregister(self.user_id, self)

    def push(self, event: dict, message: frames.Message) -> Awaitable[None] | None:
        """Called by the hub for every live event addressed to this user. Returns what the
        hub must await, if anything: a send through ASGI where the frame cannot be written
        straight to the connection.

        Live events may arrive out of log order (each request publishes after its own
        commit), so nothing is dropped here for having a lower id than the last one.
        """
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
        if self.user_id is None or self.buffer is not None:
            return  # not streaming yet: the replay under way covers it
        events, complete, position = await database_sync_to_async(catch_up_rows)(
            viewer_id=self.user_id, after=self.synced, limit=settings.ACTIVITY_REPLAY_LIMIT
        )
        if complete:
            for event in events:
                await self.send(text_data=json.dumps({**event, "replay": True}, ensure_ascii=False))
        else:
            await self.send(text_data=json.dumps({"type": "reload", "last_id": position}))
        self.synced = max(self.synced, position)

    async def receive(self, text_data=None, bytes_data=None):
        if bytes_data is not None:
            hub.unregister(self.user_id, self)  # nothing more goes to it
            await self.close(code=UNSUPPORTED_DATA)
            return
        try:
            message = json.loads(text_data)
        except (TypeError, ValueError, RecursionError):
            return  # not JSON, or nested too deep for the parser: ignored
        if isinstance(message, dict) and message.get("type") == "ping":
            await self.send(text_data='{"type": "pong"}')
