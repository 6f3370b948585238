"""The camera's socket: a host's browser sends its MediaRecorder chunks here as they are recorded.

`/ws/lives/<id>/ingest/`, for the live's host, on air, from the app's own pages (the Origin check
of `/ws/activity/`). Each binary message is the next chunk; the socket's `LiveTranscoder` turns
the recording into the live's HLS on this worker, into the shared MEDIA_ROOT that every worker
serves. A new recording (the camera switched, the recorder restarted: a chunk with a file header)
closes the session and starts the next one in the same playlist.

One socket sends a live at a time: it holds the live (`Live.runner`) and beats
(`Live.runner_beat`) each second chunks came. Quiet for CAMERA_GONE, its session is written out
(viewers have the last segment); quiet for TAKEOVER, another socket may take the live (the page
reconnected, on any worker), and the first learns so at its next beat; quiet for HOST_AWAY, the
live ends (`lives.runner`). The server's text frames:
- `{"type": "ready"}`: send chunks;
- `{"type": "playing"}`: the first segment of this recording is in the playlist;
- `{"type": "restart"}`: the session was closed while the camera was quiet: start a new recording;
- `{"type": "error", "code", "message"}`, then a close: the recording can't go on (the message is
  for the host; `LiveSourceError`);
- `{"type": "ended"}`, then a close (1000): the live is over.
Close codes: 4401 signed out, 4403 another origin or not the host, 4404 no such live, 4409 the
live is not on air or another socket sends it, 4400 after an error.
"""

import asyncio
import contextlib
import io
import json
import logging
import secrets
import time
from datetime import timedelta
from pathlib import Path

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.db.models import Q
from django.utils import timezone

from miniapp.engagement.services import live_liked
from miniapp.lib.channels_dispatch import DispatchWithoutTidying
from miniapp.lives import chunks, hls, taps
from miniapp.lives.errors import LiveSourceError
from miniapp.lives.ingest import LiveTranscoder
from miniapp.lives.models import CAMERA_GONE, Live
from miniapp.lives.runner import ORIGIN
from miniapp.lives.tap_requests import answer_taps
from miniapp.moderation.limits import ban_message
from miniapp.realtime.auth import origin_allowed

log = logging.getLogger(__name__)

UNAUTHENTICATED, BAD_SOURCE, FORBIDDEN, NOT_FOUND, CONFLICT = 4401, 4400, 4403, 4404, 4409
MAX_CHUNK_BYTES = 8 * 1024 * 1024  # a MediaRecorder chunk of 1 s at a phone's highest bit rate is < 2 MB
BEAT_SECONDS = 1.0
# Another socket may take a live over once its holder has been quiet this long: the holder has
# let it go (its session written out) at CAMERA_GONE.
TAKEOVER = CAMERA_GONE.total_seconds() + 2


def _take(live_id: int, user_id: int, token: str) -> int | None:
    """Hold the live for this socket; None if taken, else the close code that refuses it."""
    live = Live.objects.filter(pk=live_id).only("host_id", "status", "source").first()
    if live is None:
        return NOT_FOUND
    if live.host_id != user_id or live.source != Live.Source.CAMERA:
        return FORBIDDEN
    now = timezone.now()
    free = Q(runner="") | Q(runner_beat__isnull=True) | Q(runner_beat__lt=now - timedelta(seconds=TAKEOVER))
    taken = Live.objects.filter(free, pk=live_id, status=Live.Status.LIVE).update(runner=token, runner_beat=now)
    return None if taken else CONFLICT


def _beat(live_id: int, token: str, *, fed: bool) -> str:
    """ "held" if this socket still holds the live on air (and beat, if chunks came), else
    "ended" or "lost" (another socket took it)."""
    held = Live.objects.filter(pk=live_id, status=Live.Status.LIVE, runner=token)
    if fed and held.update(runner_beat=timezone.now()):
        return "held"
    if not fed and held.exists():
        return "held"
    status = Live.objects.filter(pk=live_id).values_list("status", flat=True).first()
    return "ended" if status in (None, Live.Status.ENDED) else "lost"


def _ended(live_id: int) -> bool:
    return Live.objects.filter(pk=live_id, status=Live.Status.ENDED).exists()


def _let_go(live_id: int, token: str) -> None:
    Live.objects.filter(pk=live_id, runner=token).update(runner="")


class IngestConsumer(DispatchWithoutTidying, AsyncWebsocketConsumer):
    channel_layer_alias = None
    live_id: int | None = None
    session: LiveTranscoder | None = None
    closed = False

    async def connect(self):
        await self.accept()  # first, so that a refusal carries its close code
        user = self.scope.get("user")
        if not origin_allowed(self.scope):
            await self.close(code=FORBIDDEN)
            return
        if user is None or not user.is_authenticated:
            await self.close(code=UNAUTHENTICATED)
            return
        live_id = self.scope["url_route"]["kwargs"]["live_id"]
        self.token = f"{ORIGIN}:ingest:{secrets.token_hex(4)}"
        refused = await database_sync_to_async(_take)(live_id, user.pk, self.token)
        if refused is not None:
            await self.close(code=refused)
            return
        self.live_id = live_id
        self.folder = Path(settings.MEDIA_ROOT) / (await database_sync_to_async(self._folder)())
        self.turn = asyncio.Lock()  # one session started or finished at a time
        self.fed_since_beat = True
        self.watch = asyncio.get_running_loop().create_task(self._watch())
        await self._send({"type": "ready"})

    def _folder(self) -> str:
        return Live.objects.get(pk=self.live_id).folder

    async def receive(self, text_data=None, bytes_data=None):
        if self.live_id is None or self.closed:
            return
        if bytes_data is None:
            return  # the camera sends only chunks
        if len(bytes_data) > MAX_CHUNK_BYTES:
            await self._refuse(LiveSourceError("too_fast"))
            return
        try:
            async with self.turn:
                await self._feed(bytes_data)
        except LiveSourceError as error:
            await self._refuse(error)

    async def _feed(self, chunk: bytes) -> None:
        if self.session is None:
            if chunks.sniff(chunk[:8]) is None:
                return  # the rest of a recording whose session was closed: wait for the new one
            self.session = self._new_session()
        try:
            self.session.feed(chunk)
        except LiveSourceError as error:
            if error.code != "restarted":
                raise
            await self._finish(end=False)  # a new recording: the next session of the live
            self.session = self._new_session()
            self.session.feed(chunk)
        self.fed_since_beat = True

    def _new_session(self) -> LiveTranscoder:
        session = LiveTranscoder(self.folder)
        loop = asyncio.get_running_loop()
        session.playable_sent = False
        session.on_segment = lambda playlist: loop.call_soon_threadsafe(self._segment_listed, session)
        return session

    def _segment_listed(self, session: LiveTranscoder) -> None:
        if not session.playable_sent and not self.closed:
            session.playable_sent = True
            asyncio.get_running_loop().create_task(self._send({"type": "playing"}))

    async def _watch(self) -> None:
        """Each second: beat (or learn that the live ended, or was taken), and write out a quiet session."""
        while not self.closed:
            await asyncio.sleep(BEAT_SECONDS)
            fed, self.fed_since_beat = self.fed_since_beat, False
            try:
                state = await database_sync_to_async(_beat)(self.live_id, self.token, fed=fed)
            except Exception:  # the database away: beat again next time
                log.warning("live %s: ingest beat failed", self.live_id, exc_info=True)
                continue
            if state == "ended":
                await self._stop(end=True)
                await self._send({"type": "ended"})
                await self.close()
                return
            if state == "lost":
                await self._stop(end=False)
                await self.close(code=CONFLICT)
                return
            session = self.session
            if session is not None and session.error is not None:
                await self._refuse(session.error)
                return
            quiet = session.last_fed if session is not None else None
            if quiet is not None and time.monotonic() - quiet > CAMERA_GONE.total_seconds():
                async with self.turn:
                    await self._finish(end=False)
                await self._send({"type": "restart"})

    async def _finish(self, *, end: bool) -> None:
        session, self.session = self.session, None
        if session is not None:
            await asyncio.to_thread(session.finish, end=end)
        elif end:  # the last session was written out while the camera was quiet
            await asyncio.to_thread(hls.end_playlist, self.folder)

    async def _stop(self, *, end: bool) -> None:
        """No more from this socket: write out its session and let the live go (a replay may be made)."""
        if self.closed:
            return
        self.closed = True
        async with self.turn:
            await self._finish(end=end)
        with contextlib.suppress(Exception):
            await database_sync_to_async(_let_go)(self.live_id, self.token)

    async def _refuse(self, error: LiveSourceError) -> None:
        await self._send({"type": "error", "code": error.code, "message": str(error.message)})
        await self._stop(end=False)
        await self.close(code=BAD_SOURCE)

    async def _send(self, frame: dict) -> None:
        with contextlib.suppress(Exception):  # the socket already closed
            await self.send(text_data=json.dumps(frame, ensure_ascii=False))

    async def disconnect(self, code):
        if self.live_id is None:
            return
        watch = getattr(self, "watch", None)
        if watch is not None and watch is not asyncio.current_task():
            watch.cancel()
        # The live stays on air (the host may come back: HOST_AWAY), unless it has just ended:
        # the host's page closes the socket as soon as its end is answered, often before a beat.
        try:
            ended = await database_sync_to_async(_ended)(self.live_id)
        except Exception:  # the database away: the session is written out all the same, the live left on air
            log.warning("live %s: could not read whether it ended", self.live_id, exc_info=True)
            ended = False
        await self._stop(end=ended)


class TapApp:
    """`POST /api/lives/<id>/likes/` under Daphne, answered from the event loop without Django's
    request cycle (`lives.tap_requests`: why, and the checks it runs).

    A plain ASGI application rather than a Channels consumer: a consumer's dispatch (a task per
    `receive`, `asyncio.wait` over them, and before each message a trip to the one thread every
    consumer's database work shares, a live room's reads among it) cost a tap request several
    turns of an event loop that a busy room keeps writing frames, and this one opens no
    connection (its commits run in `taps.desk`'s thread). Daphne queues the whole body before
    the application first runs, so reading it costs no turn."""

    async def __call__(self, scope, receive, send):
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client went away before its body came
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        live_id = scope["url_route"]["kwargs"]["live_id"]
        status, answer = await answer_taps(
            ASGIRequest(scope, io.BytesIO(bytes(body))),
            live_id,
            count=taps.desk.count,
            on_first=live_liked,
            ban_message=ban_message,
        )
        headers = [
            (b"Content-Type", b"application/json"),
            (b"Cache-Control", b"no-store"),
            (b"Vary", b"Accept-Language, Cookie"),
            (b"X-Content-Type-Options", b"nosniff"),
        ]
        if status == 405:
            headers.append((b"Allow", b"POST"))
        if status == 503:
            headers.append((b"Retry-After", str(answer["retry_after"]).encode()))
        body = json.dumps(answer, ensure_ascii=False).encode()
        headers.append((b"Content-Length", str(len(body)).encode()))  # else Daphne chunks it: a write more
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
