"""Where a live session's demuxed packets go, one sink a stream: copied as they are, or decoded and encoded again."""

import av

from miniapp.lives import encoding
from miniapp.lives.errors import LiveSourceError
from miniapp.lives.output import Outputs
from miniapp.videos import limits
from miniapp.videos.limits import Limits

DECODE_ERRORS_IN_A_ROW = 30  # a damaged frame is skipped; this many mean the stream is broken


class Copy:
    """A stream copied as it is, from its first keyframe, without the packets whose timestamps go back."""

    def __init__(self, outputs: Outputs, source: av.stream.Stream):
        self.outputs = outputs
        self.stream = outputs.copy_stream(source)
        self._last_dts = None
        self._started = source.type != "video"

    def push(self, packet: av.Packet) -> None:
        if packet.size == 0:
            return  # the end-of-stream packet
        if packet.dts is None:
            packet.dts = packet.pts  # Matroska stores one timestamp; live recorders have no B-frames
        if packet.dts is None or (self._last_dts is not None and packet.dts <= self._last_dts):
            return  # the muxer refuses timestamps that go back; a recorder's glitch, not worth the live
        if not self._started:
            if not packet.is_keyframe:
                return  # nothing decodes before the first keyframe
            self._started = True
        self._last_dts = packet.dts
        packet.stream = self.stream
        self.outputs.mux(packet)

    def flush(self) -> None:
        pass


class _Decoding:
    def _decode(self, packet: av.Packet) -> list:
        try:
            frames = list(packet.decode())
        except av.error.InvalidDataError:
            self._errors += 1
            if self._errors >= DECODE_ERRORS_IN_A_ROW:
                raise LiveSourceError("corrupt") from None
            return []
        self._errors = 0
        return frames


class VideoEncoder(_Decoding):
    def __init__(self, outputs: Outputs, source, size: tuple[int, int], limits_: Limits, *, decoded: list):
        self.outputs, self.source, self.limits = outputs, source, limits_
        self.stream = encoding.add_video_encoder(outputs, width=size[0], height=size[1], time_base=source.time_base)
        self.fitter = encoding.Fitter(*size)
        self.keyframes = encoding.KeyframeClock()
        self._last_pts = None
        self._errors = 0
        self._pending = decoded  # frames decoded while the decision was made
        self._drained = False

    def push(self, packet: av.Packet) -> None:
        frames, self._pending = self._pending, []
        if packet.opaque != "decoded":
            frames += self._decode(packet) if packet.size else self._drain_decoder()
        for frame in frames:
            self._encode(frame)

    def _drain_decoder(self) -> list:
        """The frames the decoder still holds (once: the stream's end-of-stream packet, or flush())."""
        if self._drained:
            return []
        self._drained = True
        try:
            return list(self.source.decode(None))
        except av.error.EOFError:
            return []

    def _encode(self, frame: av.VideoFrame) -> None:
        limits.check_size(frame.width, frame.height, self.limits)
        limits.check_encoding(pixel_format=frame.format.name)
        if frame.pts is None:
            return
        fitted = self.fitter.fit(frame)
        pts = fitted.pts
        if self._last_pts is not None and pts <= self._last_pts:
            pts = self._last_pts + 1  # x264 refuses repeated timestamps
        fitted.pts = self._last_pts = pts
        self.keyframes.mark(fitted)
        self.outputs.mux(self.stream.encode(fitted))

    def flush(self) -> None:
        """The end: a source cut off mid-file sends no end-of-stream packet, so drain the decoder here too."""
        for frame in [*self._pending, *self._drain_decoder()]:
            self._encode(frame)
        self._pending = []
        self.outputs.mux(self.stream.encode(None))


class AudioEncoder(_Decoding):
    def __init__(self, outputs: Outputs, source):
        self.outputs, self.source = outputs, source
        self.stream = encoding.add_audio_encoder(outputs, source)
        self._errors = 0

    def push(self, packet: av.Packet) -> None:
        for frame in self._decode(packet):
            self.outputs.mux(self.stream.encode(frame))

    def flush(self) -> None:
        self.outputs.mux(self.stream.encode(None))
