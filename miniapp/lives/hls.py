"""A live's HLS folder: FFmpeg's `hls` muxer writes it, this module names its options and reads it back.

One folder per live holds `index.m3u8`, a sliding window of WINDOW segments of SEGMENT_SECONDS
(MPEG-TS: `seg-<n>.ts`, n the media sequence number), and the recordings of its sessions. FFmpeg
writes the playlist to a temporary file and renames it, and each segment likewise (`temp_file`),
so a reader never sees half of either; it deletes a segment once it has been out of the window for
KEEP_AFTER_WINDOW more (a player that fetched the playlist just before may still ask for it).

A live can have several sessions (the camera restarted, the server restarted): each one opens the
muxer on the same folder with `append_list`, which reads the playlist back, so the media sequence
and the segment numbers carry on, and `discont_start` marks the break for players
(#EXT-X-DISCONTINUITY: timestamps start again). No session writes #EXT-X-ENDLIST itself
(`omit_endlist`): end_playlist() does when the live is over, and no player mistakes a camera
restart for the end.
"""

import contextlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import av

PLAYLIST = "index.m3u8"
SEGMENT_SECONDS = 1
WINDOW = 6
KEEP_AFTER_WINDOW = 6
ENDLIST = "#EXT-X-ENDLIST"
_SEGMENT = re.compile(r"seg-(\d+)\.ts")


def muxer_options(directory: Path, *, continuing: bool) -> dict[str, str]:
    """The `hls` muxer's options for a session writing into `directory`; `continuing`: after another session."""
    flags = ["delete_segments", "independent_segments", "program_date_time", "temp_file", "omit_endlist"]
    if continuing:
        flags += ["append_list", "discont_start"]
    return {
        "hls_time": str(SEGMENT_SECONDS),
        "hls_list_size": str(WINDOW),
        "hls_delete_threshold": str(KEEP_AFTER_WINDOW),
        "hls_flags": "+".join(flags),
        "hls_segment_type": "mpegts",
        "hls_segment_filename": str(directory / "seg-%d.ts"),
    }


def open_output(directory: Path) -> av.container.OutputContainer:
    """The `hls` muxer on `directory` (made if missing), continuing its playlist if there is one.

    Segments left over from an earlier session that its window had already dropped are deleted
    first: that session's muxer would have deleted them had it run on.
    """
    directory.mkdir(parents=True, exist_ok=True)
    playlist = read_playlist(directory)
    if playlist is not None:
        _delete_segments_before(directory, playlist.media_sequence)
        if playlist.ended:
            raise ValueError(f"{directory / PLAYLIST} has ended; a new live needs a new folder")
    options = muxer_options(directory, continuing=playlist is not None)
    return av.open(str(directory / PLAYLIST), "w", format="hls", options=options)


@dataclass(frozen=True)
class Segment:
    name: str
    duration: float
    discontinuity: bool  # timestamps start again here (a new session)


@dataclass(frozen=True)
class Playlist:
    media_sequence: int
    target_duration: int
    segments: list[Segment]
    ended: bool

    @property
    def duration(self) -> float:
        return sum(segment.duration for segment in self.segments)


def parse_playlist(text: str) -> Playlist:
    """Read the media playlist FFmpeg writes (the tags it uses; others are ignored). ValueError if it isn't one."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines or lines[0] != "#EXTM3U":
        raise ValueError("not an HLS playlist")
    sequence, target, ended, segments = 0, 0, False, []
    duration, discontinuity = None, False
    for line in lines[1:]:
        tag, _, value = line.partition(":")
        if tag == "#EXT-X-MEDIA-SEQUENCE":
            sequence = int(value)
        elif tag == "#EXT-X-TARGETDURATION":
            target = int(value)
        elif tag == "#EXTINF":
            duration = float(value.split(",")[0])
        elif tag == "#EXT-X-DISCONTINUITY":
            discontinuity = True
        elif tag == ENDLIST:
            ended = True
        elif not line.startswith("#"):
            if duration is None:
                raise ValueError(f"segment {line!r} has no #EXTINF")
            segments.append(Segment(line, duration, discontinuity))
            duration, discontinuity = None, False
    return Playlist(sequence, target, segments, ended)


def read_playlist(directory: Path) -> Playlist | None:
    """The playlist in `directory` as it is now, or None if there is none yet."""
    try:
        return parse_playlist((directory / PLAYLIST).read_text())
    except FileNotFoundError:
        return None


def end_playlist(directory: Path) -> None:
    """Mark the live in `directory` over (#EXT-X-ENDLIST): players stop asking for more and stop
    at its end. Call it once no session writes there any more; nothing happens without a playlist."""
    path = directory / PLAYLIST
    try:
        text = path.read_text()
    except FileNotFoundError:
        return
    if ENDLIST in text:
        return
    temporary = path.with_name(path.name + ".end")
    temporary.write_text(text.rstrip("\n") + f"\n{ENDLIST}\n")
    os.replace(temporary, path)  # atomic, as FFmpeg's own writes are


def _delete_segments_before(directory: Path, sequence: int) -> None:
    for path in directory.glob("seg-*.ts"):
        match = _SEGMENT.fullmatch(path.name)
        if match and int(match.group(1)) < sequence:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
