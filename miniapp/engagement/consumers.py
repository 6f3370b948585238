"""The comment sheet's socket `/ws/videos/<id>/comments/`: comments on one video as they come,
to whoever has its sheet open, signed in or not.

Read-only: comments are written over HTTP (`/api/videos/{id}/comments/`). Frames:
- `{"type": "comment", "comment": {…}}` a new comment or reply (`engagement.comments.comment_body`);
- `{"type": "comment_gone", "id", "parent"}` a comment deleted or hidden (with its replies);
- `{"type": "comment_pinned", "id"}` the video's pinned comment changed (`id` null: none);
- `{"type": "video_gone", "video"}` a moderator took the video down: the sheet closes;
- `{"type": "pong"}`, the answer to `{"type": "ping"}`.
Close codes: 4403 another origin, 4404 no such video (or not published).

A Channels group per video (`comments.sheet_group`): the audience is a video's open sheets,
which the activity hub (a socket per user, events addressed to users) does not know. A sheet
reads the list again over HTTP when its socket comes back, so nothing missed stays missing.
"""

import json

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from miniapp.engagement.comments import sheet_group
from miniapp.lib.channels_dispatch import DispatchWithoutTidying
from miniapp.realtime.auth import origin_allowed
from miniapp.realtime.schema import is_ping, pong_event
from miniapp.videos.selectors import video_published

FORBIDDEN, NOT_FOUND = 4403, 4404


class CommentsConsumer(DispatchWithoutTidying, AsyncWebsocketConsumer):
    group = None

    async def connect(self):
        video_id = self.scope["url_route"]["kwargs"]["video_id"]
        refusal = None
        if not origin_allowed(self.scope):
            refusal = FORBIDDEN
        elif await database_sync_to_async(video_published)(video_id) is None:
            refusal = NOT_FOUND
        else:
            # In the group before the socket opens: a sheet that reads the list once it is open
            # misses nothing written in between.
            self.group = sheet_group(video_id)
            await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()  # a refusal too, so that it carries its close code
        if refusal is not None:
            await self.close(code=refusal)

    async def disconnect(self, code):
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        if is_ping(text_data):
            await self.send(text_data=json.dumps(pong_event()))

    async def sheet_event(self, message):
        await self.send(text_data=json.dumps(message["event"], ensure_ascii=False))
