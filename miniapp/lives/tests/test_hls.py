import pytest

from miniapp.lives import hls

LIVE = """#EXTM3U
#EXT-X-VERSION:6
#EXT-X-TARGETDURATION:1
#EXT-X-MEDIA-SEQUENCE:7
#EXT-X-INDEPENDENT-SEGMENTS
#EXTINF:1.000000,
#EXT-X-PROGRAM-DATE-TIME:2026-12-03T18:48:26.098+0800
seg-7.ts
#EXT-X-DISCONTINUITY
#EXTINF:0.966667,
seg-8.ts
"""


def test_it_reads_a_live_playlist():
    playlist = hls.parse_playlist(LIVE)
    assert (playlist.media_sequence, playlist.target_duration, playlist.ended) == (7, 1, False)
    assert playlist.segments == [hls.Segment("seg-7.ts", 1.0, False), hls.Segment("seg-8.ts", 0.966667, True)]
    assert playlist.duration == pytest.approx(1.966667)


@pytest.mark.parametrize("text", ["", "seg-1.ts\n", "#EXTM3U\nseg-1.ts\n"])
def test_it_refuses_what_is_not_a_media_playlist(text):
    with pytest.raises(ValueError):
        hls.parse_playlist(text)


def test_ending_a_playlist_adds_endlist_once(tmp_path):
    (tmp_path / hls.PLAYLIST).write_text(LIVE)
    hls.end_playlist(tmp_path)
    hls.end_playlist(tmp_path)
    text = (tmp_path / hls.PLAYLIST).read_text()
    assert text.count(hls.ENDLIST) == 1 and text.endswith("seg-8.ts\n#EXT-X-ENDLIST\n")
    assert hls.read_playlist(tmp_path).ended
    assert [path.name for path in tmp_path.iterdir()] == [hls.PLAYLIST]


def test_ending_without_a_playlist_does_nothing(tmp_path):
    hls.end_playlist(tmp_path)
    assert hls.read_playlist(tmp_path) is None
    assert not list(tmp_path.iterdir())


def test_a_new_session_drops_what_the_last_one_left_behind(tmp_path):
    (tmp_path / hls.PLAYLIST).write_text(LIVE)
    for number in range(3, 9):
        (tmp_path / f"seg-{number}.ts").write_bytes(b"")
    hls.open_output(tmp_path).close()
    assert sorted(path.name for path in tmp_path.glob("seg-*.ts")) == ["seg-7.ts", "seg-8.ts"]


def test_an_ended_live_takes_no_new_session(tmp_path):
    (tmp_path / hls.PLAYLIST).write_text(LIVE + hls.ENDLIST + "\n")
    with pytest.raises(ValueError):
        hls.open_output(tmp_path)
