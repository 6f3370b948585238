"""The room socket `/ws/live/<id>/`: what every viewer of a live sees change, signed in or not.

Read-only: taps and comments go over HTTP. Frames:
- `{"type": "hello", "likes", "viewers", "status", "likers", "comments"}` first (a reconnect's,
  `?after=<comment id>`: the comments it missed, and in `gone` those removed while it was away);
- `{"type": "room", "likes", "delta", "viewers", "likers"}` at most once a tick (`TICK`) when the
  likes or the viewers changed: `delta` is the likes since this socket's last frame;
- `{"type": "status", "status"}` when the live pauses ("paused": the host's camera is quiet),
  comes back ("live") or ends ("ended", then the socket closes);
- `{"type": "comment", "id", "user", "text", "staff", "created"}`, `{"type": "comment_gone", "id"}`;
- `{"type": "notice", "kind": "enter", "user", "friend"}` someone came in;
- `{"type": "pong"}`, the answer to `{"type": "ping"}`.
Each one is catalogued in `realtime.schema.ROOM_EVENTS` and checked there under the test settings.
Close codes: 4403 another origin, 4404 no such live, 1011 the room failed (come back).

The frames come from this worker's `Room` of the live (`lives.room_worker`).
"""

import asyncio
import dataclasses
import json
import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from miniapp.lib.channels_dispatch import DispatchWithoutTidying
from miniapp.lives import comments
from miniapp.lives.room_worker import UNEXPECTED, Room, frame_text, rooms
from miniapp.realtime import frames
from miniapp.realtime.auth import origin_allowed
from miniapp.realtime.resume import parse_after
from miniapp.realtime.schema import is_ping, pong_event

log = logging.getLogger(__name__)

FORBIDDEN, NOT_FOUND = 4403, 4404


class RoomConsumer(DispatchWithoutTidying, AsyncWebsocketConsumer):
    channel_layer_alias = None  # the room's task writes to it; it listens to no channel
    room: Room | None = None
    user_id: int | None = None  # signed out: None
    write_frame = None
    likes = 0  # the total this socket was last told
    viewers = 0  # and the viewers
    greeted = False  # its hello sent: the room's frames may follow
    # From its first read of the room until its hello is sent, the room's frames wait here, then
    # follow the hello (None: not reading, or greeted).
    pending: list[frames.Message] | None = None
    ended = False

    async def connect(self):
        await self.accept()  # first, so that a refusal carries its close code
        if not origin_allowed(self.scope):
            await self.close(code=FORBIDDEN)
            return
        live_id = self.scope["url_route"]["kwargs"]["live_id"]
        self.write_frame = frames.writer(self.base_send)
        self.room = rooms.join(live_id, self)
        try:
            state = await self.room.current()
            if state is not None:  # as of now: the room's own changes as it hears more
                state = dataclasses.replace(state)
            if state is None:
                self.end(code=NOT_FOUND)
                return
            self.likes, self.pending = state.likes, []
            await self.room.tell_presence(force=self.room.said[0] < 0)
        except Exception:
            log.warning("live %s: a viewer's room could not be read", live_id, exc_info=True)
            self.end(code=UNEXPECTED)
            return
        self.viewers = self.room.viewers
        user = self.scope.get("user")
        if user is not None and user.is_authenticated:
            self.user_id = user.pk
        news = self.user_id is not None and rooms.comes_in(live_id, self.user_id)
        try:
            said, gone = await database_sync_to_async(self._hello_comments)(live_id, news)
        except Exception:
            log.warning("live %s: a viewer's comments could not be read", live_id, exc_info=True)
            said, gone = [], None
        hello = {
            "type": "hello",
            "likes": state.likes,
            "viewers": self.room.viewers,
            "status": state.status,
            "likers": state.likers,
            "comments": said,
        }
        if gone is not None:
            hello["gone"] = gone
        await self.send(text_data=frame_text(hello))
        await self.after_hello({comment["id"] for comment in said})

    async def after_hello(self, shown: set[int]) -> None:
        """The frames the room wrote while the hello was being made, in order, but the comments
        the hello already had; then the socket takes the room's frames as they come."""
        while self.pending:
            message = self.pending.pop(0)
            frame = json.loads(message.text)
            if frame["type"] == "comment" and frame["id"] in shown:
                continue
            if (sending := self._write(message)) is not None:
                await sending
        self.pending, self.greeted = None, True

    def _hello_comments(self, live_id: int, news: bool) -> tuple[list[dict], list[int] | None]:
        """The comments for `hello`, and for a reconnect (`?after=<comment id>`) those it missed
        and the ids of those removed while it was away; with `news`, a signed-in viewer's coming
        in is told to the room."""
        if news:
            comments.entered(live_id=live_id, user=self.scope["user"])
        after = parse_after(self.scope)
        said = comments.comments_for_hello(live_id, after=after)
        return said, (comments.gone_for_hello(live_id, after=after) if after is not None else None)

    def push(self, message: frames.Message):
        """The room's frame for this socket: written straight to the connection under Daphne,
        else what the room awaits (a send through ASGI). Nothing before its hello: kept for after
        it while the hello is being made."""
        if self.ended:
            return None
        if not self.greeted:
            if self.pending is not None:
                self.pending.append(message)
            return None
        return self._write(message)

    def _write(self, message: frames.Message):
        if self.write_frame is not None:
            self.write_frame(message)
            return None
        return self.send(text_data=message.text)

    def end(self, code: int = 1000) -> None:
        """Close, out of the room."""
        if not self.ended:
            self.stop()
            asyncio.get_running_loop().create_task(self.close(code=code))

    def stop(self) -> None:
        self.ended = True
        if self.room is not None:
            rooms.leave(self.room, self)

    async def disconnect(self, code):
        self.stop()

    async def receive(self, text_data=None, bytes_data=None):
        if is_ping(text_data):
            await self.send(text_data=frame_text(pong_event()))
