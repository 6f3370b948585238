import hashlib
import struct
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from miniapp.videos import demo_clips
from miniapp.videos.demo_clips import DEMO_CLIPS, make_demo_clip
from miniapp.videos.processing import probe


def top_level_boxes(path: Path) -> list[str]:
    names, data, position = [], path.read_bytes(), 0
    while position + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[position : position + 8])
        names.append(kind.decode("latin-1"))
        if size < 8:
            break
        position += size
    return names


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> list[tuple[Path, Path]]:
    """All demo clips, made once for the module (about four seconds on two cores)."""
    folder = tmp_path_factory.mktemp("demo")
    made = []
    for index, clip in enumerate(DEMO_CLIPS):
        video, poster = folder / f"{index}.mp4", folder / f"{index}.jpg"
        make_demo_clip(video_path=video, poster_path=poster, index=index, title=clip["title"], seconds=clip["seconds"])
        made.append((video, poster))
    return made


def test_it_lists_at_least_six_clips():
    assert len(DEMO_CLIPS) >= 6
    assert len({clip["title"] for clip in DEMO_CLIPS}) == len(DEMO_CLIPS)
    for clip in DEMO_CLIPS:
        assert not clip["title"].isascii()
        assert clip["description"]
        assert 3 <= clip["seconds"] <= 10


def test_it_makes_portrait_h264_aac_clips(clips):
    for (video, _), clip in zip(clips, DEMO_CLIPS, strict=True):
        info = probe(video)
        assert (info.video_codec, info.audio_codec) == ("h264", "aac")
        assert (info.width, info.height) == (360, 640)
        assert info.duration == pytest.approx(clip["seconds"], abs=0.1)
        boxes = top_level_boxes(video)
        assert boxes.index("moov") < boxes.index("mdat"), boxes


def test_it_makes_distinct_posters(clips):
    digests, colours = set(), []
    for _, poster in clips:
        with Image.open(poster) as image:
            assert (image.format, image.size) == ("JPEG", (360, 640))
            colours.append(np.asarray(image, dtype=float).mean(axis=(0, 1)))
        digests.add(hashlib.sha256(poster.read_bytes()).hexdigest())
    assert len(digests) == len(clips)
    for i, first in enumerate(colours):
        for second in colours[i + 1 :]:
            assert np.abs(first - second).max() > 10  # a different background, not just a moved shape


def test_it_plays_a_different_pitch_per_clip(clips):
    pitches = []
    for video, _ in clips[:3]:
        with av.open(str(video)) as container:
            samples = np.concatenate([f.to_ndarray().ravel() for f in container.decode(audio=0)])
        spectrum = np.abs(np.fft.rfft(samples[:44100]))
        pitches.append(round(float(np.argmax(spectrum))))  # one second of audio: bin number = Hz
    assert len(set(pitches)) == 3


def test_it_is_deterministic(tmp_path):
    made = []
    for run in range(2):
        video, poster = tmp_path / f"{run}.mp4", tmp_path / f"{run}.jpg"
        make_demo_clip(
            video_path=video, poster_path=poster, index=4, title="周末去爬山", seconds=3, width=120, height=200
        )
        made.append((video.read_bytes(), poster.read_bytes()))
    assert made[0] == made[1]


def test_it_falls_back_without_a_cjk_font(tmp_path, monkeypatch):
    monkeypatch.setattr(demo_clips, "_CJK_FONTS", [("/nonexistent/font.ttc", 0)])
    video, poster = tmp_path / "clip.mp4", tmp_path / "clip.jpg"
    make_demo_clip(video_path=video, poster_path=poster, index=2, title="外婆包饺子", seconds=3, width=180, height=320)
    assert probe(video).duration == pytest.approx(3, abs=0.1)
    with Image.open(poster) as image:
        assert image.size == (180, 320)
    strip = demo_clips._title(index=2, title="外婆包饺子", width=180)  # drawn as "Clip 3"
    assert strip.getchannel("A").getbbox() is not None


def test_it_refuses_odd_sizes(tmp_path):
    with pytest.raises(ValueError):
        make_demo_clip(
            video_path=tmp_path / "a.mp4", poster_path=tmp_path / "a.jpg", index=0, title="x", seconds=3, width=181
        )
    assert list(tmp_path.iterdir()) == []


def test_it_leaves_no_files_when_it_fails_midway(tmp_path, monkeypatch):
    calls = []

    def bounce_then_break(position, span):
        calls.append(position)
        if len(calls) > 60:  # two calls a frame: past the poster frame at 1 s
            raise RuntimeError("boom")
        return 0

    monkeypatch.setattr(demo_clips, "_bounce", bounce_then_break)
    with pytest.raises(RuntimeError):
        make_demo_clip(video_path=tmp_path / "a.mp4", poster_path=tmp_path / "a.jpg", index=0, title="x", seconds=3)
    assert list(tmp_path.iterdir()) == []
