"""The camera's socket (`/ws/lives/<id>/ingest/`) on the in-process ASGI application, fed Chromium's
own recordings chunk by chunk as the go-live page sends them: who may send, the HLS it makes,
a restarted recording, a quiet camera (paused, then let go, then the live ends), and the replay
the recordings become."""

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from django.db import OperationalError
from django.utils import timezone

from miniapp.lives import consumers, hls
from miniapp.lives.models import Live
from miniapp.lives.runner import Runner
from miniapp.lives.services import live_create, live_end, live_start
from miniapp.lives.tests import sources
from miniapp.lives.tests.checks import check_live_folder
from tests.fixtures.factories import make_video
from tests.fixtures.sockets import ORIGIN, Opened, handshake

pytestmark = pytest.mark.django_db(transaction=True)

CHUNKS = sources.fixture("chromium-vp8-opus.webm")  # 4 s of Chromium's fake camera, as its recorder cut it


@pytest.fixture
def camera_live(users, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return live_start(live=live_create(host=users["alice"], title="村口直播"))


class Camera:
    def __init__(self, communicator):
        self.communicator = communicator

    async def frame(self, timeout: float = 15) -> dict:
        return json.loads(await self.communicator.receive_from(timeout=timeout))

    async def send(self, chunks) -> None:
        for chunk in chunks:
            await self.communicator.send_to(bytes_data=chunk)

    async def closed(self, timeout: float = 15) -> int:
        while True:
            message = await self.communicator.receive_output(timeout=timeout)
            if message["type"] == "websocket.close":
                return message.get("code", 1000)

    async def close(self) -> None:
        await self.communicator.disconnect()


@pytest.fixture
async def connect():
    opened = Opened(Camera)

    async def open_camera(user, live_id: int, *, origin: bytes = ORIGIN) -> Camera:
        return await opened.open(f"/ws/lives/{live_id}/ingest/", await handshake(user, origin=origin))

    yield open_camera
    await opened.close_all()


def folder(live: Live) -> Path:
    from django.conf import settings

    return Path(settings.MEDIA_ROOT) / live.folder


async def refresh(live: Live) -> Live:
    return await database_sync_to_async(Live.objects.select_related("replay").get)(pk=live.pk)


async def tick_until_replay(live: Live, timeout: float = 30) -> Live:
    """Runner ticks (as a worker's would) until the live's replay is made."""
    runner = Runner(origin="test-worker")
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        await database_sync_to_async(runner.tick)()
        for thread in runner.replays:
            await asyncio.to_thread(thread.join, 60)
        live = await refresh(live)
        if live.replay_id is not None or asyncio.get_running_loop().time() > deadline:
            return live
        await asyncio.sleep(0.2)


async def test_the_host_camera_goes_live_over_hls_and_its_recording_becomes_the_replay(camera_live, users, connect):
    camera = await connect(users["alice"], camera_live.pk)
    assert await camera.frame() == {"type": "ready"}
    await camera.send(CHUNKS)
    assert await camera.frame() == {"type": "playing"}  # its first segment is in the playlist
    live = await refresh(camera_live)
    assert live.runner.endswith(tuple("0123456789abcdef")) and ":ingest:" in live.runner
    assert not live.paused

    await database_sync_to_async(live_end)(live=live)  # the host taps 结束 (the API)
    assert await camera.frame() == {"type": "ended"}
    assert await camera.closed() == 1000
    playlist = check_live_folder(folder(live), ended=True)
    assert playlist.duration == pytest.approx(4, abs=0.5)

    live = await tick_until_replay(live)
    replay = live.replay
    assert replay is not None and replay.author_id == users["alice"].pk and replay.title == "村口直播"
    assert replay.is_published and replay.poster and replay.duration == pytest.approx(4, abs=0.5)


async def test_a_socket_closed_right_after_the_end_still_closes_the_playlist(camera_live, users, connect):
    camera = await connect(users["alice"], camera_live.pk)
    await camera.frame()
    await camera.send(CHUNKS)
    assert await camera.frame() == {"type": "playing"}
    await database_sync_to_async(live_end)(live=camera_live)
    await camera.communicator.disconnect()  # the host's page closes it once the end is answered, before a beat
    assert hls.read_playlist(folder(camera_live)).ended
    live = await refresh(camera_live)
    assert live.runner == "" and live.replay_pending  # written out and let go: a runner makes the replay


async def test_a_socket_closed_while_its_end_cannot_be_read_still_lets_the_live_go(
    camera_live, users, connect, monkeypatch
):
    """Else the transcoder would run on and the live stay held: the host's camera refused (4409) when
    it comes back."""
    camera = await connect(users["alice"], camera_live.pk)
    await camera.frame()
    await camera.send(CHUNKS)
    assert await camera.frame() == {"type": "playing"}

    def away(live_id):
        raise OperationalError("the database is away")

    monkeypatch.setattr(consumers, "_ended", away)
    await camera.communicator.disconnect()
    live = await refresh(camera_live)
    assert live.runner == "" and live.status == Live.Status.LIVE  # let go, still on air: the host may come back
    assert not hls.read_playlist(folder(camera_live)).ended


async def test_a_restarted_recording_continues_the_playlist_and_the_replay_joins_both(camera_live, users, connect):
    camera = await connect(users["alice"], camera_live.pk)
    await camera.frame()
    await camera.send(CHUNKS)
    assert await camera.frame() == {"type": "playing"}
    await camera.send(CHUNKS)  # the camera switched: a new recording, from its header
    assert await camera.frame() == {"type": "playing"}
    await database_sync_to_async(live_end)(live=camera_live)
    assert await camera.frame() == {"type": "ended"}

    playlist = check_live_folder(folder(camera_live), ended=True)
    assert [segment.discontinuity for segment in playlist.segments].count(True) == 1
    live = await tick_until_replay(camera_live)
    assert live.replay.duration == pytest.approx(8, abs=1)


async def test_only_the_host_sends_a_live_on_air_from_one_socket(camera_live, users, connect):
    async def refused(user, live_id, **options) -> int:
        return await (await connect(user, live_id, **options)).closed()

    assert await refused(users["bob"], camera_live.pk) == 4403
    assert await refused(None, camera_live.pk) == 4401
    assert await refused(users["alice"], camera_live.pk, origin=b"https://evil.example") == 4403
    assert await refused(users["alice"], 999999) == 4404
    scheduled = await database_sync_to_async(live_create)(host=users["alice"], title="预告")
    assert await refused(users["alice"], scheduled.pk) == 4409
    clip_live = await database_sync_to_async(live_create)(
        host=users["alice"], title="c", clip=await database_sync_to_async(make_video)(users["alice"])
    )
    assert await refused(users["alice"], clip_live.pk) == 4403

    first = await connect(users["alice"], camera_live.pk)
    assert await first.frame() == {"type": "ready"}
    assert await refused(users["alice"], camera_live.pk) == 4409  # a second page of hers: one sends at a time


async def test_a_chunk_that_breaks_the_recording_is_refused_with_a_message(camera_live, users, connect):
    camera = await connect(users["alice"], camera_live.pk)
    await camera.frame()
    await camera.send([b"not a recording"])  # no header: waits for a recording to start
    await camera.send(CHUNKS[:3])
    await camera.send([b"\x00garbage" * 100])
    error = await camera.frame()
    assert error["type"] == "error" and error["code"] == "corrupt" and "摄像头" in error["message"]
    assert await camera.closed() == 4400
    live = await refresh(camera_live)
    assert live.status == Live.Status.LIVE and live.runner == ""  # let go: the page reconnects at once and starts again


async def test_a_quiet_camera_pauses_the_live_then_lets_it_go_then_it_ends(camera_live, users, connect):
    camera = await connect(users["alice"], camera_live.pk)
    await camera.frame()
    await camera.send(CHUNKS[:-1])
    assert await camera.frame() == {"type": "playing"}
    # The camera stops (the phone locked): the session is written out, viewers see 主播暂时离开.
    assert await camera.frame(timeout=20) == {"type": "restart"}
    live = await refresh(camera_live)
    assert live.status == Live.Status.LIVE and live.paused
    assert not hls.read_playlist(folder(live)).ended
    assert await (await connect(users["alice"], camera_live.pk)).closed() == 4409  # still hers, for now

    # Quiet a little longer: another socket (the page reconnected, on any worker) takes over.
    await database_sync_to_async(Live.objects.filter(pk=live.pk).update)(
        runner_beat=timezone.now() - timedelta(seconds=8)
    )
    again = await connect(users["alice"], camera_live.pk)
    assert await again.frame() == {"type": "ready"}
    assert await camera.closed() == 4409  # the first learns it lost the live at its next beat
    await again.communicator.disconnect()

    # Quiet for HOST_AWAY: a runner ends the live; the playlist is closed, the replay made.
    await database_sync_to_async(Live.objects.filter(pk=live.pk).update)(
        runner_beat=timezone.now() - timedelta(seconds=31)
    )
    live = await tick_until_replay(live)
    assert live.status == Live.Status.ENDED and "30 seconds" in live.end_reason
    assert hls.read_playlist(folder(live)).ended
    assert live.replay is not None


async def test_no_replay_when_the_host_turned_it_off(users, connect, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    live = await database_sync_to_async(
        lambda: live_start(live=live_create(host=users["alice"], title="t", keep_replay=False))
    )()
    camera = await connect(users["alice"], live.pk)
    await camera.frame()
    await camera.send(CHUNKS)
    assert await camera.frame() == {"type": "playing"}
    await database_sync_to_async(live_end)(live=live)
    assert await camera.frame() == {"type": "ended"}
    live = await tick_until_replay(live, timeout=3)
    assert live.replay is None and not live.replay_pending
