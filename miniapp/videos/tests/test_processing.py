"""Every input is made here at test time with PyAV and Pillow, so no media files live in the repository."""

import struct
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from django.utils import translation
from PIL import Image

from miniapp.videos import processing
from miniapp.videos.demo_clips import make_demo_clip
from miniapp.videos.limits import AudioBudget, Limits, OverLimit
from miniapp.videos.processing import VideoRejected, prepare, probe
from miniapp.videos.tests.samples import (
    animated_gif,
    audio_only,
    brightness,
    dark_then_bright,
    encode,
    first_half,
    grown,
    packed_audio,
)


def top_level_boxes(path: Path) -> list[str]:
    names, data, position = [], path.read_bytes(), 0
    while position + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[position : position + 8])
        if size == 1:
            size = struct.unpack(">Q", data[position + 8 : position + 16])[0]
        names.append(kind.decode("latin-1"))
        if size < 8:
            break
        position += size
    return names


def codecs(path: Path) -> tuple[str, str | None]:
    with av.open(str(path)) as container:
        audio = container.streams.audio[0].codec_context.name if container.streams.audio else None
        return container.streams.video[0].codec_context.name, audio


@pytest.fixture(scope="module")
def h264_clip(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("h264")
    video = folder / "clip.mp4"
    make_demo_clip(
        video_path=video, poster_path=folder / "p.jpg", index=2, title="测试", seconds=2, width=180, height=320
    )
    return video


def rejection(path: Path, **limits) -> VideoRejected:
    with pytest.raises(VideoRejected) as caught:
        probe(path, **limits)
    return caught.value


def assert_prepared(prepared, *, out_dir: Path, duration: float, audio: str | None = "aac"):
    assert prepared.video_path == out_dir / "video.mp4"
    assert prepared.poster_path == out_dir / "poster.jpg"
    assert sorted(p.name for p in out_dir.iterdir()) == ["card.jpg", "poster.jpg", "poster.webp", "video.mp4"]
    assert codecs(prepared.video_path) == ("h264", audio)
    boxes = top_level_boxes(prepared.video_path)
    assert boxes.index("moov") < boxes.index("mdat"), boxes  # +faststart: playable while downloading
    assert prepared.duration == pytest.approx(duration, abs=0.1)
    assert prepared.size == prepared.video_path.stat().st_size
    with Image.open(prepared.poster_path) as poster:
        assert poster.format == "JPEG"
        assert poster.size == (prepared.width, prepared.height)


def test_it_probes_a_video(h264_clip):
    assert probe(h264_clip) == processing.ProbeResult(
        duration=2.0, width=180, height=320, video_codec="h264", audio_codec="aac"
    )


def test_it_remuxes_h264(h264_clip, tmp_path):
    prepared = prepare(h264_clip, out_dir=tmp_path / "out")
    assert_prepared(prepared, out_dir=tmp_path / "out", duration=2.0)
    assert (prepared.width, prepared.height) == (180, 320)
    # A stream copy keeps the very same packets.
    with av.open(str(h264_clip)) as source, av.open(str(prepared.video_path)) as copy:
        assert [p.size for p in source.demux(video=0)] == [p.size for p in copy.demux(video=0)]


def test_it_transcodes_other_codecs(tmp_path):
    src = encode(tmp_path / "clip.mkv", codec="mpeg4", seconds=2.5)
    assert probe(src).video_codec == "mpeg4"
    prepared = prepare(src, out_dir=tmp_path / "out")
    assert_prepared(prepared, out_dir=tmp_path / "out", duration=2.5)
    assert (prepared.width, prepared.height) == (96, 160)


def test_it_transcodes_silent_vp9(tmp_path):
    src = encode(tmp_path / "clip.webm", codec="libvpx-vp9", audio=False)
    prepared = prepare(src, out_dir=tmp_path / "out")
    assert_prepared(prepared, out_dir=tmp_path / "out", duration=2.0, audio=None)


def test_it_scales_down_to_1280(tmp_path):
    src = encode(tmp_path / "wide.mkv", width=1600, height=900, seconds=1.5, fps=4, audio=False)
    prepared = prepare(src, out_dir=tmp_path / "out")
    assert (prepared.width, prepared.height) == (1280, 720)


def test_it_keeps_phone_rotation(tmp_path):
    src = encode(tmp_path / "phone.mov", rotation=-90)
    assert (probe(src).width, probe(src).height) == (160, 96)
    prepared = prepare(src, out_dir=tmp_path / "out")
    assert (prepared.width, prepared.height) == (160, 96)
    with Image.open(prepared.poster_path) as poster:
        assert poster.size == (160, 96)
        # The bright top half, turned a quarter clockwise, is now on the right.
        pixels = np.asarray(poster.convert("L"), dtype=float)
        assert pixels[:, 80:].mean() > pixels[:, :80].mean() + 100


def test_it_rejects_a_text_file(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("just some text, not a video\n" * 50)
    assert rejection(path).code == "not_video"


@pytest.mark.parametrize("name", ["missing.mp4", ""])
def test_it_rejects_missing_paths_and_folders(tmp_path, name):
    assert rejection(tmp_path / name).code == "not_video"


def test_it_rejects_the_first_half_of_an_mp4(h264_clip, tmp_path):
    assert rejection(first_half(h264_clip, tmp_path / "half.mp4")).code == "truncated"


def test_it_rejects_the_first_half_of_an_mp4_without_faststart(tmp_path):
    # The index (moov) sits at the end, so FFmpeg can't even open what is left.
    src = encode(tmp_path / "slow.mp4", codec="libx264")
    assert top_level_boxes(src)[-1] == "moov"
    assert rejection(first_half(src, tmp_path / "half.mp4")).code == "truncated"


def test_it_rejects_the_first_half_of_an_mkv(tmp_path):
    src = encode(tmp_path / "clip.mkv", seconds=3)
    assert rejection(first_half(src, tmp_path / "half.mkv")).code == "truncated"


def test_it_rejects_audio_only(tmp_path):
    assert rejection(audio_only(tmp_path / "song.m4a")).code == "no_video"


def test_it_rejects_long_videos(tmp_path):
    src = encode(tmp_path / "long.mp4", codec="libx264", seconds=61, width=64, height=64, fps=2, audio=False)
    rejected = rejection(src)
    assert rejected.code == "too_long"
    with translation.override("en"):
        assert str(rejected.message) == "Videos can be at most 60 seconds long."
    assert probe(src, limits=Limits(seconds=90)).duration == pytest.approx(61, abs=0.1)


def test_it_rejects_short_videos(tmp_path):
    src = encode(tmp_path / "blink.mkv", seconds=0.5)
    assert rejection(src).code == "too_short"
    assert probe(src, min_seconds=0.25).duration == pytest.approx(0.5, abs=0.1)


@pytest.mark.parametrize("name,kind", [("photo.jpg", "JPEG"), ("photo.png", "PNG"), ("photo.webp", "WEBP")])
def test_it_rejects_images(tmp_path, name, kind):
    Image.new("RGB", (64, 64), (200, 30, 30)).save(tmp_path / name, format=kind)
    assert rejection(tmp_path / name).code == "image"


def test_it_rejects_an_image_named_mp4(tmp_path):
    Image.new("RGB", (64, 64), (200, 30, 30)).save(tmp_path / "photo.mp4", format="PNG")
    assert rejection(tmp_path / "photo.mp4").code == "image"


def test_it_rejects_big_files_before_writing(h264_clip, tmp_path):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(VideoRejected) as caught:
        prepare(h264_clip, out_dir=out_dir, limits=Limits(bytes=1024))
    assert caught.value.code == "too_big"
    assert list(out_dir.iterdir()) == []


def test_it_leaves_nothing_behind_when_rejecting(h264_clip, tmp_path):
    out_dir = tmp_path / "out"
    with pytest.raises(VideoRejected) as caught:
        prepare(first_half(h264_clip, tmp_path / "half.mp4"), out_dir=out_dir)
    assert caught.value.code == "truncated"
    assert not out_dir.exists() or list(out_dir.iterdir()) == []


def test_it_cleans_up_when_a_late_step_fails(h264_clip, tmp_path, monkeypatch):
    def broken_poster(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(processing, "_write_poster", broken_poster)
    out_dir = tmp_path / "out"
    with pytest.raises(VideoRejected) as caught:
        prepare(h264_clip, out_dir=out_dir)
    assert caught.value.code == "failed"
    assert list(out_dir.iterdir()) == []


def test_it_falls_back_to_transcoding_when_copying_fails(h264_clip, tmp_path, monkeypatch):
    def refuse(src, dst, **kwargs):
        dst.write_bytes(b"half a file")
        raise av.error.InvalidDataError(1, "refused")

    monkeypatch.setattr(processing, "_remux", refuse)
    prepared = prepare(h264_clip, out_dir=tmp_path / "out")
    assert_prepared(prepared, out_dir=tmp_path / "out", duration=2.0)


@pytest.mark.parametrize(
    "name,codec",
    [
        ("clip.mp4", "libx264"),
        ("clip.mov", "mpeg4"),
        ("clip.3gp", "mpeg4"),
        ("clip.webm", "libvpx"),
        ("clip.mkv", "mpeg4"),
    ],
)
def test_it_opens_the_containers_phones_record(tmp_path, name, codec):
    assert probe(encode(tmp_path / name, codec=codec, audio=name != "clip.webm")).duration == pytest.approx(2, abs=0.1)


@pytest.mark.parametrize("name", ["clip.avi", "clip.ts", "clip.flv", "clip.nut", "clip.y4m"])
def test_it_refuses_other_containers(tmp_path, name):
    """FFmpeg reads these too, but no phone records them: each is more code reading untrusted bytes."""
    codec = {".y4m": "rawvideo", ".flv": "flv"}.get(Path(name).suffix, "mpeg4")
    assert rejection(encode(tmp_path / name, codec=codec, audio=False)).code == "not_video"


def hls_playlist(path: Path, segment: Path) -> Path:
    path.write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:2.0,\nfile://{segment}\n#EXT-X-ENDLIST\n")
    return path


@pytest.mark.parametrize(
    "make",
    [
        lambda d, clip: hls_playlist(d / "list.m3u8", clip),
        lambda d, clip: hls_playlist(d / "list.mp4", clip),  # named as a video
        lambda d, clip: d.joinpath("list.txt").write_text(f"ffconcat version 1.0\nfile '{clip}'\n") and d / "list.txt",
    ],
    ids=["hls", "hls-named-mp4", "concat"],
)
def test_it_never_opens_a_file_another_file_names(h264_clip, tmp_path, make):
    with pytest.raises(VideoRejected) as caught:
        prepare(make(tmp_path, h264_clip), out_dir=tmp_path / "out")
    assert caught.value.code == "not_video"
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_it_refuses_an_animated_gif(tmp_path):
    assert rejection(animated_gif(tmp_path / "dance.gif")).code == "not_video"


def test_it_knows_a_heic_photo(tmp_path):
    # The first box of an iPhone photo: ISO-BMFF, which the mov demuxer would read, of brand "heic".
    path = tmp_path / "IMG_0001.mov"
    path.write_bytes(struct.pack(">I4s4sI4s4s", 24, b"ftyp", b"heic", 0, b"mif1", b"heic") + bytes(64))
    assert rejection(path).code == "image"


@pytest.mark.parametrize(
    "codec,pix_fmt",
    [("libx264", "yuv444p"), ("libx264", "yuv422p"), ("ffv1", "yuv420p"), ("mjpeg", "yuvj420p")],
)
def test_it_refuses_encodings_phones_dont_record(tmp_path, codec, pix_fmt):
    rejected = rejection(encode(tmp_path / "clip.mkv", codec=codec, pix_fmt=pix_fmt, audio=False))
    assert rejected.code == "encoding"
    with translation.override("en"):
        assert codec.removeprefix("lib").removesuffix("264") in str(rejected.message)


@pytest.mark.parametrize("width,height", [(96, 160), (160, 96)])
def test_it_takes_frames_up_to_the_limit_either_way_round(tmp_path, width, height):
    src = encode(tmp_path / "clip.mp4", width=width, height=height, audio=False)
    assert probe(src, limits=Limits(long_side=160, short_side=96)).width == width
    rejected = rejection(src, limits=Limits(long_side=158, short_side=96))
    assert rejected.code == "resolution"
    with translation.override("en"):
        assert f"{width}×{height}" in str(rejected.message) and "158×96" in str(rejected.message)


def test_it_refuses_high_frame_rates(tmp_path):
    src = encode(tmp_path / "slowmo.mp4", width=32, height=32, fps=120, seconds=1.5, audio=False)
    rejected = rejection(src)
    assert rejected.code == "frame_rate"
    with translation.override("en"):
        assert "120 frames a second" in str(rejected.message) and "at most 60" in str(rejected.message)


def test_it_takes_a_phones_59_94_fps(tmp_path):
    src = tmp_path / "phone.mp4"
    with av.open(str(src), "w") as container:
        stream = container.add_stream("mpeg4", rate=Fraction(60000, 1001))
        stream.width, stream.height = 32, 32
        for number in range(120):
            frame = av.VideoFrame.from_ndarray(np.zeros((32, 32, 3), np.uint8), format="rgb24")
            frame.pts = number
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    assert probe(src).duration == pytest.approx(2, abs=0.05)


def test_it_stops_reading_packets_past_the_frame_limit(tmp_path):
    # 1 s at 50 fps against 10 fps for at most 1 s: refused after some 21 of its 50 packets.
    src = encode(tmp_path / "fast.mp4", width=32, height=32, fps=50, seconds=1, audio=False)
    assert rejection(src, limits=Limits(seconds=1, fps=10)).code == "frame_rate"


def test_it_bounds_pixels_times_frames(tmp_path):
    src = encode(tmp_path / "clip.mp4", width=96, height=96, fps=30, seconds=4, audio=False)  # 1.1 million
    assert probe(src, limits=Limits(megapixels=1.2)).duration == pytest.approx(4, abs=0.1)
    rejected = rejection(src, limits=Limits(megapixels=1))
    assert rejected.code == "too_many_pixels"
    with translation.override("en"):
        assert "96×96 and 30 frames a second" in str(rejected.message)
        assert "at most 3 seconds" in str(rejected.message)


@pytest.mark.parametrize(
    "limits,code",
    [(Limits(long_side=128, short_side=128), "resolution"), (Limits(megapixels=0.5), "too_many_pixels")],
    ids=["frames-grow-past-the-size", "frames-grow-past-the-budget"],
)
def test_decoding_stops_when_frames_outgrow_what_the_probe_saw(tmp_path, limits, code):
    """Headers can lie: this one says 64×64 (0.1 million pixels in all) and then decodes to 256×256."""
    src = grown(tmp_path / "grows.mkv", small=64, large=256)
    assert probe(src, limits=limits).width == 64
    out_dir = tmp_path / "out"
    with pytest.raises(VideoRejected) as caught:
        prepare(src, out_dir=out_dir, limits=limits)
    assert caught.value.code == code
    assert list(out_dir.iterdir()) == []


def test_it_refuses_more_audio_packets_than_the_length_allows(tmp_path):
    """Issue 14: each tiny AAC packet decodes to 1,024 samples; here 20,000 of them, 7 minutes of sound in 2 s
    of timestamps. 60 s allow 12,200 packets, and demuxing stops at the next."""
    rejected = rejection(packed_audio(tmp_path / "chatty.mp4", packets=20_000))
    assert rejected.code == "too_much_audio"
    with translation.override("en"):
        assert "at most 60 seconds of sound" in str(rejected.message)


def test_it_refuses_audio_packets_stuffed_with_frames(tmp_path):
    """FFmpeg's AAC decoder decodes every frame a packet holds at once, before any can be counted."""
    src = packed_audio(tmp_path / "stuffed.mp4", packets=3, frames_a_packet=2000)  # 8,000 bytes each
    assert rejection(src).code == "too_much_audio"


def test_decoding_stops_when_the_sound_outlasts_the_limit(tmp_path):
    """500 packets of 8 kHz AAC fit in the packet count for 2 s (600) and decode to 64 s of sound."""
    limits = Limits(seconds=2)
    src = packed_audio(tmp_path / "long.mp4", packets=500, rate=8000)
    assert probe(src, limits=limits).duration == pytest.approx(2, abs=0.1)
    out_dir = tmp_path / "out"
    with pytest.raises(VideoRejected) as caught:
        prepare(src, out_dir=out_dir, limits=limits)
    assert caught.value.code == "too_much_audio"
    assert list(out_dir.iterdir()) == []


def test_a_clip_as_long_as_the_limit_keeps_its_sound(tmp_path):
    prepared = prepare(encode(tmp_path / "clip.mkv", seconds=2), out_dir=tmp_path / "out", limits=Limits(seconds=2))
    assert_prepared(prepared, out_dir=tmp_path / "out", duration=2.0)


@pytest.mark.parametrize(
    ("name", "codec", "audio_codec", "audio_rate", "code"),
    [
        ("clip.webm", "libvpx", "libopus", 48000, None),
        ("clip.mp4", "mpeg4", "libmp3lame", 44100, None),
        ("clip.3gp", "mpeg4", "libopencore_amrnb", 8000, None),
        ("clip.mov", "mpeg4", "pcm_s16le", 48000, None),
        ("clip.mkv", "mpeg4", "flac", 44100, "audio_encoding"),
        ("clip.mkv", "mpeg4", "pcm_s16le", 384_000, "too_much_audio"),
    ],
    ids=["opus", "mp3", "amr", "pcm", "flac", "pcm-384khz"],
)
def test_it_takes_the_sound_phones_record(tmp_path, name, codec, audio_codec, audio_rate, code):
    src = encode(tmp_path / name, codec=codec, audio_codec=audio_codec, audio_rate=audio_rate)
    if code is None:
        assert probe(src).audio_codec is not None
    else:
        assert rejection(src).code == code


def test_the_audio_budget_checks_every_frame():
    """Headers can lie about sound too: each decoded frame's rate counts, and its length."""
    second = av.AudioFrame.from_ndarray(np.zeros((1, 48000), np.int16), format="s16p", layout="mono")
    second.sample_rate = 48000
    budget = AudioBudget(Limits(seconds=1))
    budget.spend(second)
    with pytest.raises(OverLimit) as caught:
        budget.spend(second)  # 2 s against 1 s and the grace
    assert caught.value.code == "too_much_audio"
    second.sample_rate = 384_000
    with pytest.raises(OverLimit):
        AudioBudget(Limits()).spend(second)


@pytest.mark.parametrize(("cover_at", "bright"), [(None, False), (0.0, False), (4.5, True), (99.0, True)])
def test_the_poster_is_the_frame_the_uploader_chose(tmp_path, cover_at, bright):
    clip = dark_then_bright(tmp_path / "clip.mp4")
    prepared = prepare(clip, out_dir=tmp_path / "out", cover_at=cover_at)  # 99 s: kept within the video
    assert (brightness(prepared.poster_path) > 128) is bright


def test_cover_time_keeps_a_choice_within_the_video():
    assert processing.cover_time(10.0, None) == processing.POSTER_AT
    assert processing.cover_time(0.5, None) == 0.0
    assert processing.cover_time(10.0, 3.2) == 3.2
    assert processing.cover_time(10.0, 30.0) == pytest.approx(9.95)
