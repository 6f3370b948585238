import pytest

from miniapp.lives.chunks import ChunkChecker
from miniapp.lives.errors import LiveSourceError
from miniapp.lives.tests import sources
from miniapp.videos.containers import MATROSKA, MOV

GARBAGE = bytes(range(256)) * 8


def check_all(checker: ChunkChecker, chunks: list[bytes]) -> None:
    for chunk in chunks:
        checker.check(chunk)


@pytest.mark.parametrize("name", ["chromium-vp8-opus.webm", "chromium-h264-opus.webm"])
@pytest.mark.parametrize("size", [None, 1, 7, 1000])
def test_it_accepts_chromium_recordings_cut_anywhere(name, size):
    chunks = sources.fixture(name)
    if size is not None:
        chunks = sources.chunks(b"".join(chunks), size)
    checker = ChunkChecker()
    check_all(checker, chunks)
    assert checker.kind == MATROSKA


@pytest.mark.parametrize("size", [1, 13, 1000, 1_000_000])
def test_it_accepts_a_fragmented_mp4_cut_anywhere(size):
    checker = ChunkChecker()
    check_all(checker, sources.chunks(sources.fragmented_mp4(seconds=3), size))
    assert checker.kind == MOV


def test_it_accepts_empty_chunks():
    checker = ChunkChecker()
    checker.check(b"")
    check_all(checker, sources.fixture("chromium-vp8-opus.webm")[:3])
    checker.check(b"")


@pytest.mark.parametrize("data", [GARBAGE, b"<html><body>hello</body></html>", b"ID3\x04\x00" + GARBAGE])
def test_it_refuses_what_is_not_a_recording(data):
    with pytest.raises(LiveSourceError) as refused:
        ChunkChecker().check(data)
    assert refused.value.code == "not_recording"


def test_it_waits_for_enough_bytes_to_tell():
    checker = ChunkChecker()
    checker.check(b"\x1a\x45")  # could be the start of a WebM
    assert checker.kind is None
    with pytest.raises(LiveSourceError):
        checker.check(b"\x00\x00" + GARBAGE)


def test_it_refuses_garbage_midway_and_changes_nothing():
    chunks = sources.fixture("chromium-vp8-opus.webm")
    checker = ChunkChecker()
    check_all(checker, chunks[:5])
    with pytest.raises(LiveSourceError) as refused:
        checker.check(GARBAGE)
    assert refused.value.code == "corrupt"
    check_all(checker, chunks[5:])  # the good chunks still continue the recording


def test_it_refuses_what_follows_a_truncated_chunk():
    chunks = sources.fixture("chromium-vp8-opus.webm")
    checker = ChunkChecker()
    check_all(checker, chunks[:4])
    checker.check(chunks[4][: len(chunks[4]) // 2])  # a cut-off chunk looks fine on its own...
    with pytest.raises(LiveSourceError) as refused:
        checker.check(chunks[5])  # ...but the next one doesn't continue it
    assert refused.value.code == "corrupt"


def test_it_refuses_a_truncated_mp4_fragment():
    chunks = sources.chunks(sources.fragmented_mp4(seconds=5), 1500)
    checker = ChunkChecker()
    check_all(checker, chunks[:3])
    checker.check(chunks[3][:700])
    with pytest.raises(LiveSourceError):
        check_all(checker, chunks[4:])


def test_it_refuses_another_format_midway():
    webm = sources.fixture("chromium-vp8-opus.webm")
    mp4 = sources.chunks(sources.fragmented_mp4(seconds=3), 1000)
    checker = ChunkChecker()
    check_all(checker, webm[:3])
    with pytest.raises(LiveSourceError) as refused:
        checker.check(mp4[1])
    assert refused.value.code == "corrupt"

    checker = ChunkChecker()
    check_all(checker, mp4[:1])
    with pytest.raises(LiveSourceError) as refused:
        checker.check(webm[2])
    assert refused.value.code == "corrupt"


@pytest.mark.parametrize("recording", ["webm", "mp4"])
def test_it_tells_a_new_recording_apart(recording):
    """A recorder stopped and started again (the camera switched) sends a new file's header."""
    data = sources.webm(seconds=1) if recording == "webm" else sources.fragmented_mp4(seconds=1)
    checker = ChunkChecker()
    checker.check(data)
    with pytest.raises(LiveSourceError) as refused:
        checker.check(data[:100])
    assert refused.value.code == "restarted"


def test_it_refuses_media_before_the_index():
    """An MP4 written to be read whole (mdat, then moov at the end) is no live recording."""
    with pytest.raises(LiveSourceError) as refused:
        ChunkChecker().check(b"\x00\x00\x00\x10ftypisom\x00\x00\x02\x00" + b"\x00\x00\x00\x10mdat" + bytes(8))
    assert refused.value.code == "corrupt"


def test_it_refuses_an_element_larger_than_any_frame():
    data = sources.webm(seconds=1)
    cluster = data.index(bytes.fromhex("1f43b675"))
    checker = ChunkChecker()
    checker.check(data[:cluster])
    # A cluster of unknown size, then a SimpleBlock claiming 64 MB.
    with pytest.raises(LiveSourceError) as refused:
        checker.check(bytes.fromhex("1f43b675 01ffffffffffffff a3 0c000000 81"))
    assert refused.value.code == "corrupt"
