"""How a live is encoded when its source can't be copied: H.264 for HLS players, and AAC.

x264 is tuned for live (`zerolatency`: no lookahead and no B-frames, so a frame leaves the encoder
as soon as it is in) and for a phone's viewers: Main profile, 4:2:0, at most 720p, a keyframe
(IDR) at the start of every segment, forced by time since the camera's frame rate varies.
"""

from fractions import Fraction

import av
from av.video.frame import PictureType

from miniapp.lives.hls import SEGMENT_SECONDS

LONG_SIDE, SHORT_SIDE = 1280, 720
FRAME_RATE = 30  # MediaRecorder's usual rate; only a hint to the rate control: timestamps rule
X264 = {
    # superfast, not the uploads' veryfast: 4 s of a noisy 720p30 camera cost 0.38 CPU s a second
    # of live against 0.60 (VP8 and Opus decoding included), and a live runs as long as it runs.
    "preset": "superfast",
    "tune": "zerolatency",
    "profile": "main",
    "crf": "23",
    # Capped at 2 Mb/s over a second, so one busy scene can't make a segment a phone can't fetch in time.
    "maxrate": "2000k",
    "bufsize": "2000k",
    "forced-idr": "1",
    # Keyframes come from the segment clock (below), not from scene cuts.
    "x264-params": "scenecut=0",
}
AAC_RATES = {96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000}


def output_size(width: int, height: int) -> tuple[int, int]:
    """`width`×`height` scaled down to fit 1280×720 (either way round), with even sides."""
    long_side, short_side = max(width, height), min(width, height)
    scale = min(1.0, LONG_SIDE / long_side, SHORT_SIDE / short_side)
    even = lambda side: max(2, round(side * scale / 2) * 2)  # noqa: E731
    return even(width), even(height)


def add_video_encoder(outputs, *, width: int, height: int, time_base: Fraction) -> av.stream.Stream:
    stream = outputs.encoder_stream("libx264", rate=FRAME_RATE, options=dict(X264))
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    # The source's clock: variable frame rates survive, and so does the sync with the sound.
    stream.codec_context.time_base = time_base
    stream.codec_context.gop_size = 10 * FRAME_RATE  # a cap only; see KeyframeClock
    return stream


def add_audio_encoder(outputs, source: av.audio.stream.AudioStream) -> av.stream.Stream:
    rate = source.rate if source.rate in AAC_RATES else 48000
    stream = outputs.encoder_stream("aac", rate=rate)
    stream.layout = "mono" if source.codec_context.layout.nb_channels == 1 else "stereo"
    stream.bit_rate = 96_000
    return stream


class KeyframeClock:
    """Marks the first frame at or after each SEGMENT_SECONDS boundary as a keyframe, so every
    segment the HLS muxer cuts starts with one and lasts SEGMENT_SECONDS however the rate varies."""

    def __init__(self):
        self._next: float | None = None

    def mark(self, frame: av.VideoFrame) -> None:
        time = float(frame.pts * frame.time_base)
        if self._next is None or time >= self._next:
            frame.pict_type = PictureType.I
            self._next = (time if self._next is None else self._next) + SEGMENT_SECONDS
            while self._next <= time:  # after a gap in the source
                self._next += SEGMENT_SECONDS
        else:
            frame.pict_type = PictureType.NONE


class Fitter:
    """Turns decoded frames upright (a phone's rotation, as the container said) and fits them in
    the encoder's frame, letterboxed: a phone turned sideways mid-live changes the frame's shape."""

    def __init__(self, width: int, height: int):
        self.width, self.height = width, height
        self._graph = None
        self._shape = None

    def fit(self, frame: av.VideoFrame) -> av.VideoFrame:
        rotation = round(frame.rotation or 0) % 360
        shape = (frame.width, frame.height, frame.format.name, rotation)
        if rotation == 0 and (frame.width, frame.height) == (self.width, self.height):
            return frame  # the encoder converts the pixel format itself if need be
        if shape != self._shape:
            self._graph, self._shape = self._build(frame, rotation), shape
        self._graph.push(frame)
        fitted = self._graph.pull()
        fitted.pts, fitted.time_base = frame.pts, frame.time_base
        return fitted

    def _build(self, frame: av.VideoFrame, rotation: int) -> av.filter.Graph:
        graph = av.filter.Graph()
        chain = [
            graph.add_buffer(
                template=None, width=frame.width, height=frame.height, format=frame.format, time_base=frame.time_base
            )
        ]
        # The display matrix says how to turn the picture to show it, in degrees anticlockwise.
        turns = {90: [("transpose", "cclock")], 180: [("hflip", ""), ("vflip", "")], 270: [("transpose", "clock")]}
        size = f"{self.width}:{self.height}"
        for name, arguments in [
            *turns.get(rotation, []),
            ("scale", f"{size}:force_original_aspect_ratio=decrease:force_divisible_by=2"),
            ("pad", f"{size}:(ow-iw)/2:(oh-ih)/2"),
            ("format", "yuv420p"),
        ]:
            chain.append(graph.add(name, arguments))
        chain.append(graph.add("buffersink"))
        graph.link_nodes(*chain).configure()
        return graph
