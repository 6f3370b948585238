"""LiveTranscoder on real chunks: Chromium's recordings (fixtures/), Safari-shaped fragmented MP4s and
PyAV-made WebM (sources.py), whole, damaged and stopped midway. Media runs ahead of the clock
(realtime=False) except where pacing is what is tested."""

import contextlib

import av
import pytest

from miniapp.lives import hls, ingest
from miniapp.lives.errors import LiveSourceError
from miniapp.lives.ingest import LiveTranscoder
from miniapp.lives.tests import sources
from miniapp.lives.tests.checks import check_live_folder, decode_segment, segment_files
from miniapp.videos.limits import Limits
from miniapp.videos.processing import prepare


def run(directory, chunks, **options) -> LiveTranscoder:
    session = LiveTranscoder(directory, realtime=False, **options)
    for chunk in chunks:
        session.feed(chunk)
    session.finish()
    return session


def test_it_transcodes_chromium_vp8_and_opus(tmp_path):
    session = run(tmp_path, sources.fixture("chromium-vp8-opus.webm"))

    assert session.error is None
    assert (session.video_mode, session.audio_mode) == ("h264", "aac")
    assert session.playable.is_set()
    playlist = check_live_folder(tmp_path, ended=True)
    assert playlist.media_sequence == 0 and playlist.target_duration == 1
    assert len(playlist.segments) == 4  # 4 s recorded
    assert all(segment.duration == pytest.approx(1, abs=0.1) for segment in playlist.segments[:-1])
    first = decode_segment(tmp_path / playlist.segments[0].name)
    assert (first.video_codec, first.profile, first.pixel_format) == ("h264", "Main", "yuv420p")
    assert (first.width, first.height) == (320, 240)
    assert first.audio_codec == "aac" and first.audio_frames > 0
    assert first.video_frames >= 20  # Chromium's fake camera: 30 fps


def test_it_copies_chromium_h264_and_encodes_its_opus(tmp_path):
    session = run(tmp_path, sources.fixture("chromium-h264-opus.webm"))

    assert (session.video_mode, session.audio_mode) == ("copy", "aac")
    playlist = check_live_folder(tmp_path, ended=True)
    assert len(playlist.segments) == 4
    assert sum(segment.duration for segment in playlist.segments) == pytest.approx(4, abs=0.3)
    assert decode_segment(tmp_path / playlist.segments[1].name).profile == "Constrained Baseline"  # untouched


@pytest.mark.parametrize("size", [700, 64_000])
def test_it_copies_safaris_h264_and_aac(tmp_path, size):
    session = run(tmp_path, sources.chunks(sources.fragmented_mp4(seconds=6, keyframe_seconds=2), size))

    assert (session.video_mode, session.audio_mode) == ("copy", "copy")
    playlist = check_live_folder(tmp_path, ended=True)
    # Safari's keyframes come every 2 s, and a copied stream can only be cut at one.
    assert [segment.duration for segment in playlist.segments] == pytest.approx([2, 2, 2], abs=0.1)
    assert playlist.target_duration == 2
    assert decode_segment(tmp_path / playlist.segments[0].name).audio_codec == "aac"


def test_it_encodes_h264_whose_keyframes_are_too_far_apart(tmp_path):
    session = run(tmp_path, sources.chunks(sources.fragmented_mp4(seconds=5, keyframe_seconds=5), 4096))

    assert (session.video_mode, session.audio_mode) == ("h264", "copy")
    playlist = check_live_folder(tmp_path, ended=True)
    assert [round(segment.duration) for segment in playlist.segments] == [1, 1, 1, 1, 1]


def test_it_turns_a_phone_held_upright_the_right_way_up(tmp_path):
    # The picture is stored sideways (bright half at the top) with a display matrix turning it 90° anticlockwise.
    session = run(tmp_path, sources.chunks(sources.fragmented_mp4(seconds=3, rotation=90, width=160, height=96), 4096))

    assert session.video_mode == "h264"
    with av.open(str(tmp_path / "seg-1.ts")) as container:
        picture = next(container.decode(video=0)).to_ndarray(format="gray")
    height, width = picture.shape
    assert (width, height) == (96, 160)
    assert picture[:, : width // 4].mean() > 180 > 60 > picture[:, -width // 4 :].mean()  # bright side on the left


def test_it_scales_down_to_720p(tmp_path):
    session = run(tmp_path, sources.chunks(sources.webm(seconds=1, width=1920, height=1080, fps=4), 50_000))

    assert session.video_mode == "h264"
    segment = decode_segment(tmp_path / "seg-0.ts")
    assert (segment.width, segment.height) == (1280, 720)


def test_the_window_slides_and_old_segments_go(tmp_path):
    run(tmp_path, sources.chunks(sources.webm(seconds=20, fps=10), 2000))

    playlist = check_live_folder(tmp_path, ended=True)
    assert len(playlist.segments) == hls.WINDOW
    assert playlist.media_sequence == 20 - hls.WINDOW
    assert all(segment.duration == pytest.approx(1, abs=0.01) for segment in playlist.segments)
    # Only the window and the segments just out of it are left (a player may still be fetching those).
    kept = range(playlist.media_sequence - hls.KEEP_AFTER_WINDOW, playlist.media_sequence + hls.WINDOW)
    assert segment_files(tmp_path) == sorted(f"seg-{number}.ts" for number in kept)
    assert not list(tmp_path.glob("*.tmp"))


def test_the_media_sequence_advances_while_live(tmp_path):
    playlists = []
    run(tmp_path, sources.chunks(sources.webm(seconds=12, fps=10), 1000), on_segment=playlists.append)

    assert [playlist.ended for playlist in playlists] == [False] * 12
    assert [playlist.media_sequence for playlist in playlists] == [0] * hls.WINDOW + list(range(1, 7))
    assert [len(playlist.segments) for playlist in playlists] == [*range(1, hls.WINDOW + 1), *[hls.WINDOW] * 6]


def test_a_source_that_stops(tmp_path):
    chunks = sources.fixture("chromium-vp8-opus.webm")
    session = LiveTranscoder(tmp_path, realtime=False)
    for chunk in chunks[:8]:  # 2 s of the 4
        session.feed(chunk)
    recording = session.finish()

    assert session.error is None
    playlist = check_live_folder(tmp_path, ended=True)
    assert 1 <= len(playlist.segments) <= 3
    with pytest.raises(LiveSourceError) as refused:
        session.feed(chunks[8])
    assert refused.value.code == "ended"
    assert recording == tmp_path / "recording-1.mp4"


def test_a_truncated_last_chunk_ends_cleanly(tmp_path):
    chunks = sources.fixture("chromium-vp8-opus.webm")
    session = run(tmp_path, [*chunks[:9], chunks[9][:1000]])

    assert session.error is None
    check_live_folder(tmp_path, ended=True)


def test_a_truncated_chunk_midway_is_refused_and_the_live_stays_playable(tmp_path):
    chunks = sources.fixture("chromium-vp8-opus.webm")
    session = LiveTranscoder(tmp_path, realtime=False)
    for chunk in [*chunks[:6], chunks[6][:1500]]:
        session.feed(chunk)
    with pytest.raises(LiveSourceError) as refused:
        session.feed(chunks[7])
    assert refused.value.code == "corrupt"
    session.finish()

    check_live_folder(tmp_path, ended=True)


@pytest.mark.parametrize("intruder", ["garbage", "mp4"])
def test_a_bad_chunk_midway_is_refused_and_the_next_good_chunk_goes_on(tmp_path, intruder):
    chunks = sources.fixture("chromium-vp8-opus.webm")
    bad = bytes(range(256)) * 20 if intruder == "garbage" else sources.fragmented_mp4(seconds=1)[:3000]
    session = LiveTranscoder(tmp_path, realtime=False)
    for chunk in chunks[:5]:
        session.feed(chunk)
    with pytest.raises(LiveSourceError) as refused:
        session.feed(bad)
    assert refused.value.code == "corrupt"
    for chunk in chunks[5:]:
        session.feed(chunk)
    session.finish()

    assert session.error is None
    assert len(check_live_folder(tmp_path, ended=True).segments) == 4


def test_a_restarted_camera_goes_on_in_a_new_session(tmp_path):
    """The host switched cameras: the page's recorder stopped and a new one started. Its first chunk
    tells the session so; the caller closes the session without ending the live and feeds the chunk
    to a new one."""
    session = LiveTranscoder(tmp_path, realtime=False)
    for chunk in sources.fixture("chromium-vp8-opus.webm"):
        session.feed(chunk)
    second = sources.fixture("chromium-h264-opus.webm")
    with pytest.raises(LiveSourceError) as refused:
        session.feed(second[0])
    assert refused.value.code == "restarted"
    session.finish(end=False)
    session = LiveTranscoder(tmp_path, realtime=False)
    for chunk in second:
        session.feed(chunk)
    session.finish()

    playlist = check_live_folder(tmp_path, ended=True)
    assert playlist.media_sequence == 2  # 4 segments each, in a window of 6
    assert {segment.name for segment in playlist.segments[1:] if segment.discontinuity} == {"seg-4.ts"}


def test_garbage_from_the_start_writes_nothing(tmp_path):
    session = LiveTranscoder(tmp_path / "live", realtime=False)
    with pytest.raises(LiveSourceError) as refused:
        session.feed(b"GET / HTTP/1.1\r\n" * 100)
    assert refused.value.code == "not_recording"
    assert session.finish() is None
    assert not (tmp_path / "live").exists()


def test_damaged_media_inside_a_good_structure_fails_the_session(tmp_path):
    """The checker reads only the container: a header that lies about the codec data gets past it, FFmpeg doesn't."""
    data = bytearray(b"".join(sources.fixture("chromium-vp8-opus.webm")))
    tracks = data.index(bytes.fromhex("1654ae6b"))
    data[tracks + 20 : tracks + 200] = bytes(180)  # the track entries, zeroed
    session = LiveTranscoder(tmp_path, realtime=False)
    with pytest.raises(LiveSourceError):
        for chunk in sources.chunks(bytes(data), 2000):
            session.feed(chunk)
        session.finish()
        raise session.error
    session.finish()


def test_a_new_session_continues_the_playlist(tmp_path):
    """The camera restarted (a new recording): the live goes on in the same playlist."""
    sessions = [LiveTranscoder(tmp_path, realtime=False) for _ in range(2)]
    for session in sessions:
        for chunk in sources.chunks(sources.webm(seconds=3), 3000):
            session.feed(chunk)
        session.finish(end=False)
        check_live_folder(tmp_path, ended=False)

    playlist = hls.read_playlist(tmp_path)
    assert [session.recording_path.name for session in sessions] == ["recording-1.mp4", "recording-2.mp4"]
    assert playlist.media_sequence == 0
    assert [segment.name for segment in playlist.segments] == [f"seg-{number}.ts" for number in range(6)]
    # Timestamps start again at the second session's first segment. (FFmpeg's `discont_start` also
    # marks the list's first segment: harmless, a player starts there anyway.)
    assert [segment.discontinuity for segment in playlist.segments[1:]] == [False, False, True, False, False]
    hls.end_playlist(tmp_path)
    assert hls.read_playlist(tmp_path).ended


def test_the_recording_becomes_a_video(tmp_path):
    session = run(tmp_path / "live", sources.fixture("chromium-vp8-opus.webm"))

    prepared = prepare(session.recording_path, out_dir=tmp_path / "replay", limits=Limits(seconds=3600))
    assert prepared.duration == pytest.approx(3.7, abs=0.4)
    assert (prepared.width, prepared.height) == (320, 240)
    assert prepared.poster_path.is_file()


def test_it_holds_the_source_to_the_limits(tmp_path):
    session = LiveTranscoder(tmp_path, realtime=False, limits=Limits(long_side=200, short_side=200))
    chunks = sources.fixture("chromium-vp8-opus.webm")
    with pytest.raises(LiveSourceError) as refused:
        for chunk in chunks:
            session.feed(chunk)
        session.finish()
        raise session.error
    assert refused.value.code == "resolution"
    assert "320×240" in str(refused.value.message)


def test_a_source_faster_than_real_time_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(ingest, "MAX_BACKLOG", 5000)
    session = LiveTranscoder(tmp_path)  # at the clock's pace: at most MAX_LEAD seconds ahead
    with pytest.raises(LiveSourceError) as refused:
        for chunk in sources.chunks(sources.webm(seconds=40, fps=3, audio=False), 500):  # 40 s sent at once (10 KB)
            session.feed(chunk)
    assert refused.value.code == "too_fast"
    session.finish()
    check_live_folder(tmp_path, ended=True)


def test_undecodable_frames_midway_end_the_session_and_leave_it_playable(tmp_path):
    """A recording whose structure is sound but whose frames turn to noise after 2 s."""
    session = LiveTranscoder(tmp_path, realtime=False)
    for chunk in sources.chunks(sources.webm(seconds=6, noise_after=2), 2000):
        with contextlib.suppress(LiveSourceError):
            session.feed(chunk)
    session.finish()

    assert session.error is not None and session.error.code == "corrupt"
    playlist = check_live_folder(tmp_path, ended=True)
    assert 1 <= len(playlist.segments) <= 3
