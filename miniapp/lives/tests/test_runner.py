"""lives.runner: a worker takes a clip live on air and plays it into the live's folder, which
any worker serves; another worker takes it over when the first falls silent; an end closes
the playlist. Two Runner objects stand for two workers (as two processes would be)."""

import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from miniapp.lives import hls
from miniapp.lives.models import Live
from miniapp.lives.runner import Runner
from miniapp.lives.services import live_create, live_end, live_start
from miniapp.videos.demo_clips import make_demo_clip
from tests.fixtures.factories import make_video

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def clip_live(users, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    folder = tmp_path / "videos" / "clip"
    folder.mkdir(parents=True)
    make_demo_clip(video_path=folder / "video.mp4", poster_path=folder / "poster.jpg", index=1, title="t", seconds=2)
    video = make_video(users["carol"])
    video.file, video.poster = "videos/clip/video.mp4", "videos/clip/poster.jpg"
    video.save(update_fields=["file", "poster"])
    return live_start(live=live_create(host=users["carol"], title="田间直播", clip=video))


def wait_for(condition, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
    return found


def playlist(live: Live) -> hls.Playlist | None:
    answer = Client().get(f"/media/lives/{live.key.hex}/index.m3u8")
    if answer.status_code != 200:
        return None
    assert answer["Content-Type"] == "application/vnd.apple.mpegurl"
    assert answer["Cache-Control"] == "no-cache, max-age=0"
    return hls.parse_playlist(b"".join(answer.streaming_content).decode())


def test_a_worker_plays_a_clip_live_and_another_takes_it_over_when_it_falls_silent(clip_live):
    first, second = Runner(origin="worker-a", speed=4), Runner(origin="worker-b", speed=4)
    try:
        first.tick()
        second.tick()  # the first has it, and says so: the second leaves it
        assert set(first.sources) == {clip_live.pk} and not second.sources
        assert Live.objects.get().runner == "worker-a"

        shown = wait_for(lambda: (p := playlist(clip_live)) and len(p.segments) >= 3 and p)
        segment = Client().get(f"/media/lives/{clip_live.key.hex}/{shown.segments[0].name}")
        assert segment.status_code == 200 and segment["Content-Type"] == "video/mp2t"
        assert "immutable" in segment["Cache-Control"] and b"".join(segment.streaming_content)[:1] == b"G"

        # The first worker stops (its process ended) without ending the live: silent for long enough,
        # the second takes it and the playlist carries on after a discontinuity.
        first.sources.pop(clip_live.pk).stop(end=False)
        Live.objects.update(runner_beat=timezone.now() - timedelta(seconds=11))
        second.tick()
        assert set(second.sources) == {clip_live.pk} and Live.objects.get().runner == "worker-b"
        before = shown.media_sequence + len(shown.segments)
        went_on = wait_for(lambda: (p := playlist(clip_live)) and p.media_sequence + len(p.segments) > before + 2 and p)
        numbers = [int(segment.name[4:-3]) for segment in went_on.segments]
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))  # one playlist, numbered on
        assert went_on.media_sequence >= shown.media_sequence
        assert any(segment.discontinuity for segment in went_on.segments)  # where the second worker took over
        assert not went_on.ended

        live_end(live=clip_live)
        second.tick()  # it sees the end: the source stops and the playlist gets its ENDLIST
        assert not second.sources
        assert playlist(clip_live).ended
    finally:
        first.stop()
        second.stop()


def test_an_ended_live_with_no_runner_left_is_closed_by_the_end_itself(clip_live):
    runner = Runner(origin="worker-a", speed=4)
    runner.tick()
    wait_for(lambda: playlist(clip_live))
    runner.sources.pop(clip_live.pk).stop(end=False)  # its worker went away
    Live.objects.update(runner_beat=timezone.now() - timedelta(seconds=11))
    live_end(live=clip_live)
    assert playlist(clip_live).ended
    runner.stop()


def test_nothing_is_served_before_a_live_is_on_air_or_outside_its_files(users, clip_live):
    announced = live_create(host=users["carol"], title="预告", clip=clip_live.clip)
    folder = Path(clip_live.folder)
    assert Client().get(f"/media/lives/{announced.key.hex}/index.m3u8").status_code == 404
    for name in ("video.mp4", "index.m3u8.tmp", "seg-1.ts.tmp", "..%2Findex.m3u8", "seg-x.ts"):
        assert Client().get(f"/media/{folder}/{name}").status_code == 404, name
