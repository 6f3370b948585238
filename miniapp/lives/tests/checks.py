"""What the tests check on a live's HLS folder: the playlist as a player reads it, the segments as a decoder does."""

from dataclasses import dataclass
from pathlib import Path

import av

from miniapp.lives import hls


@dataclass
class DecodedSegment:
    video_codec: str
    profile: str | None
    pixel_format: str
    width: int
    height: int
    video_frames: int
    audio_codec: str | None
    audio_frames: int
    starts_with_keyframe: bool
    first_time: float  # seconds, as the segment's timestamps say
    last_time: float


def decode_segment(path: Path) -> DecodedSegment:
    """Decode every frame of one segment on its own, as a player joining there would (which knows
    it is MPEG-TS: FFmpeg can't tell from a segment of a few frames of a still picture)."""
    with av.open(str(path), format="mpegts") as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        packets = [p for p in container.demux(video) if p.size]
        frames = [frame for packet in [*packets, None] for frame in video.decode(packet)]
        audio_frames = 0
        if audio is not None:
            container.seek(0)
            audio_frames = sum(1 for _ in container.decode(audio))
        times = [float(p.pts * p.time_base) for p in packets if p.pts is not None]
        return DecodedSegment(
            video_codec=video.codec_context.name,
            profile=video.codec_context.profile,
            pixel_format=frames[0].format.name,
            width=frames[0].width,
            height=frames[0].height,
            video_frames=len(frames),
            audio_codec=audio.codec_context.name if audio is not None else None,
            audio_frames=audio_frames,
            starts_with_keyframe=packets[0].is_keyframe,
            first_time=min(times),
            last_time=max(times),
        )


def check_live_folder(directory: Path, *, ended: bool) -> hls.Playlist:
    """The playlist parses, lists files that are there and decode from their first frame, and says
    whether the live has ended; returns it."""
    text = (directory / hls.PLAYLIST).read_text()
    playlist = hls.parse_playlist(text)
    assert playlist.ended == ended, text
    assert playlist.segments, text
    for number, segment in enumerate(playlist.segments, start=playlist.media_sequence):
        assert segment.name == f"seg-{number}.ts"  # the sequence number names the file
        assert (directory / segment.name).is_file(), segment.name
        decoded = decode_segment(directory / segment.name)
        assert decoded.starts_with_keyframe, segment.name
        assert decoded.video_frames > 0
    # RFC 8216: every segment, rounded to the nearest second, is at most the target duration.
    assert all(round(segment.duration) <= playlist.target_duration for segment in playlist.segments), text
    return playlist


def segment_files(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.glob("seg-*.ts"))
