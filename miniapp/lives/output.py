"""Where a live session's packets go: the HLS folder and, optionally, a recording for the replay.

The recording is a fragmented MP4 (a fragment at each keyframe): what was written stays playable
if the process dies mid-live, and `videos.processing.prepare` turns it into a fast-start MP4 with
a poster like any upload, without re-encoding.
"""

import threading
from collections.abc import Callable
from pathlib import Path

import av

from miniapp.lives import hls

_RECORDING = {"movflags": "+frag_keyframe+empty_moov+default_base_moof"}


def recording_path(directory: Path) -> Path:
    """A new recording's name in `directory`: recording-1.mp4, then -2 for the next session..."""
    number = 1 + len(list(directory.glob("recording-*.mp4")))
    return directory / f"recording-{number}.mp4"


class Outputs:
    """The `hls` muxer on a live's folder and the session's recording, fed the same packets.

    Add the streams (copy_stream, encoder_stream), then mux(); close() once. The first segment
    listed in the playlist sets `playable`; `on_segment` is called with the playlist each time one
    is (in the muxing thread).
    """

    def __init__(
        self,
        directory: Path,
        *,
        record: bool,
        on_segment: Callable[[hls.Playlist], None] | None = None,
        playable: threading.Event | None = None,
    ):
        self.directory = directory
        self.hls = hls.open_output(directory)
        self.recording_path = recording_path(directory) if record else None
        self.recording = None
        self._recorded: dict[int, av.stream.Stream] = {}  # the hls stream's index -> its recording stream
        self._templates: list[tuple[av.stream.Stream, av.stream.Stream]] = []
        self.playable = playable or threading.Event()
        self.on_segment = on_segment
        self._started = False
        self._waiting: dict[int, av.Packet] = {}
        self._sequence = self._first_sequence()

    def _first_sequence(self) -> int:
        playlist = hls.read_playlist(self.directory)
        return playlist.media_sequence + len(playlist.segments) if playlist else 0

    def copy_stream(self, source: av.stream.Stream) -> av.stream.Stream:
        """An output stream carrying `source`'s packets unchanged."""
        stream = self.hls.add_stream_from_template(source)
        self._templates.append((stream, source))
        return stream

    def encoder_stream(self, codec: str, **kwargs) -> av.stream.Stream:
        """An output stream with its own encoder (configure it before the first mux)."""
        stream = self.hls.add_stream(codec, **kwargs)
        self._templates.append((stream, stream))
        return stream

    def _start(self) -> None:
        # The header opens the encoders; only then do their streams have the parameters
        # (the H.264 SPS and PPS, the AAC config) the recording's header needs.
        self._started = True
        self.hls.start_encoding()
        if self.recording_path is not None:
            self.recording = av.open(str(self.recording_path), "w", format="mp4", options=_RECORDING)
            for stream, template in self._templates:
                self._recorded[stream.index] = self.recording.add_stream_from_template(template)

    def mux(self, packets) -> None:
        """Write `packets` (an encoder's output or one demuxed packet, with its `stream` set to ours).

        Each packet waits for the next of its stream, whose timestamp gives its duration: the HLS
        muxer adds up durations to measure the last segment, and neither a pipe's Matroska (1 ms)
        nor an encoder told a nominal frame rate gives the right ones.
        """
        for packet in [packets] if isinstance(packets, av.Packet) else packets:
            if packet.dts is None and packet.pts is None:
                continue
            waiting = self._waiting.get(packet.stream.index)
            self._waiting[packet.stream.index] = packet
            if waiting is None:
                continue
            if packet.time_base == waiting.time_base:
                if None not in (packet.dts, waiting.dts) and packet.dts > waiting.dts:
                    waiting.duration = packet.dts - waiting.dts
                packet.duration = waiting.duration  # for the stream's last packet, which no next one measures
            self._write(waiting)  # which rescales its timestamps to the muxer's: after the sums

    def _write(self, packet: av.Packet) -> None:
        if not self._started:
            self._start()
        if self.recording is not None:
            self.recording.mux(_copy(packet, self._recorded[packet.stream.index]))
        self.hls.mux(packet)  # after the copy: muxing takes the packet's data
        if packet.is_keyframe:
            self._check_playlist()  # a keyframe is where the muxer may have cut a segment

    def _check_playlist(self) -> None:
        playlist = hls.read_playlist(self.directory)
        if playlist is None:
            return
        listed = playlist.media_sequence + len(playlist.segments)
        if listed > self._sequence:
            self._sequence = listed
            self.playable.set()
            if self.on_segment is not None:
                self.on_segment(playlist)

    def close(self, *, end: bool) -> None:
        """Flush and close both (the last segment is written now); `end`: the live is over (#EXT-X-ENDLIST)."""
        try:
            for packet in self._waiting.values():
                self._write(packet)  # as long as the one before
            self._waiting.clear()
            self.hls.close()
        finally:
            if self.recording is not None:
                self.recording.close()
        self._check_playlist()
        if end:
            hls.end_playlist(self.directory)


def _copy(packet: av.Packet, stream: av.stream.Stream) -> av.Packet:
    """A copy of `packet` for another muxer: each muxer takes the data of the packets it is given."""
    copy = av.Packet(bytes(packet))
    copy.pts, copy.dts, copy.duration = packet.pts, packet.dts, packet.duration
    copy.time_base = packet.time_base
    copy.is_keyframe = packet.is_keyframe
    copy.stream = stream
    return copy
