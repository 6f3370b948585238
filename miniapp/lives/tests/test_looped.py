"""LoopedLive at 20 times the clock's pace (`speed`): a 2.5 s clip loops in an eighth of a second."""

import time

import av
import pytest

from miniapp.lives import hls
from miniapp.lives.errors import LiveSourceError
from miniapp.lives.ingest import LiveTranscoder
from miniapp.lives.looped import LoopedLive
from miniapp.lives.tests import sources
from miniapp.lives.tests.checks import check_live_folder, decode_segment
from miniapp.videos.demo_clips import make_demo_clip
from miniapp.videos.tests.samples import encode


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """A demo clip as `seed_demo` makes them: H.264 with a keyframe a second, AAC."""
    folder = tmp_path_factory.mktemp("clip")
    path = folder / "video.mp4"
    make_demo_clip(video_path=path, poster_path=folder / "poster.jpg", index=2, title="loop", seconds=2.5)
    return path


def wait_for(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_it_loops_with_timestamps_running_on(clip, tmp_path):
    live = LoopedLive(clip, tmp_path, speed=20)
    live.start()
    assert live.playable.wait(30)
    wait_for(lambda: live.loops >= 5)
    live.stop()

    assert live.error is None
    playlist = check_live_folder(tmp_path, ended=True)
    assert playlist.media_sequence > 0  # 12 s of video went by in a window of 6 segments
    assert not any(segment.discontinuity for segment in playlist.segments)
    decoded = [decode_segment(tmp_path / segment.name) for segment in playlist.segments]
    assert all(segment.audio_codec == "aac" and segment.audio_frames for segment in decoded)
    # One unbroken stream across the loops: each segment starts a frame (1/24 s) after the one before
    # ended, or at a loop's end a little more: the loop lasts as long as its sound, 23 ms past the picture.
    for before, after in zip(decoded, decoded[1:], strict=False):
        assert 1 / 24 - 0.002 < after.first_time - before.last_time < 1 / 24 + 0.03
    assert all(segment.duration <= 2 for segment in playlist.segments)


def test_it_copies_the_video(clip, tmp_path):
    live = LoopedLive(clip, tmp_path, speed=20)
    live.start()
    assert live.playable.wait(30)
    live.stop()

    with av.open(str(clip)) as source:
        profile = source.streams.video[0].codec_context.profile
    segment = decode_segment(tmp_path / "seg-0.ts")
    assert (segment.video_codec, segment.profile, segment.width, segment.height) == ("h264", profile, 360, 640)


def test_a_stopped_loop_can_be_continued(clip, tmp_path):
    """The server restarted: the demo live goes on in the same playlist, after a discontinuity."""
    for _ in range(2):
        live = LoopedLive(clip, tmp_path, speed=20)
        live.start()
        wait_for(lambda live=live: live.loops >= 1)
        live.stop(end=False)
        check_live_folder(tmp_path, ended=False)
    assert sum(segment.discontinuity for segment in hls.read_playlist(tmp_path).segments) >= 1

    session = LiveTranscoder(tmp_path, realtime=False)  # or the host's camera takes over
    for chunk in sources.fixture("chromium-vp8-opus.webm"):
        session.feed(chunk)
    session.finish()
    check_live_folder(tmp_path, ended=True)


def test_it_refuses_a_video_that_is_not_h264(tmp_path):
    source = encode(tmp_path / "mpeg4.mp4", codec="mpeg4")
    live = LoopedLive(source, tmp_path / "live")
    with pytest.raises(LiveSourceError) as refused:
        live.run()
    assert refused.value.code == "encoding"


def test_it_reports_a_missing_file_from_its_thread(tmp_path):
    live = LoopedLive(tmp_path / "gone.mp4", tmp_path / "live")
    live.start().join(10)
    assert live.error is not None and live.error.code == "not_recording"
    assert not live.playable.is_set()
