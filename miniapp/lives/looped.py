"""One of the app's videos played as a live: copied into a live's HLS folder in real time, looped until stopped.

Every viewer reads the same playlist, which moves on with the clock, so everyone sees the same
moment. Each loop carries on the timestamps of the one before (shifted by the video's length), so
players see one unbroken stream and no discontinuity. The packets are copied, not encoded again:
the app's videos are H.264 and AAC already (`videos.processing.prepare`), and a looped live costs
next to no CPU. Its segments are as long as the video's keyframes are apart (the demo clips have
one a second; phones' 1 to 2 s).
"""

import contextlib
import logging
import math
import threading
import time
from fractions import Fraction
from pathlib import Path

import av

from miniapp.lives.errors import LiveSourceError
from miniapp.lives.output import Outputs
from miniapp.videos import containers

logger = logging.getLogger(__name__)

MAX_PIXELS = 4096 * 2160  # the largest picture an upload may have (videos.limits.Limits)


class LoopedLive:
    """`source` (an MP4 of H.264 and, optionally, AAC) live in `directory` until stop().

    run() does the work in the calling thread; start() runs it in a new daemon thread. A later
    LoopedLive or LiveTranscoder on the same folder continues its playlist (a new session).
    """

    def __init__(self, source: Path, directory: Path, *, speed: float = 1):
        self.source = source
        self.speed = speed  # seconds of video a second: 1 is live; tests go faster
        self.directory = directory
        self.playable = threading.Event()  # set once the playlist has this session's first segment
        self.error: LiveSourceError | None = None
        self.loops = 0  # how many times the video has started
        self._stop = threading.Event()
        self._end = True
        self._thread: threading.Thread | None = None

    def start(self) -> threading.Thread:
        self._thread = threading.Thread(target=self._run_logged, name=f"looped live {self.directory.name}", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, *, end: bool = True, timeout: float = 30) -> None:
        """Stop looping; `end`: the live is over (#EXT-X-ENDLIST), else a new session may continue it.
        Waits for the thread start() made, if any."""
        self._end = end
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run_logged(self) -> None:
        try:
            self.run()
        except LiveSourceError as error:
            self.error = error
        except Exception:
            logger.exception("Looped live in %s failed", self.directory)
            self.error = LiveSourceError("failed")

    def run(self) -> None:
        """Play the video in a loop, in real time, until stop(). Raises LiveSourceError for a
        source that isn't H.264 (and AAC)."""
        with contextlib.ExitStack() as stack:
            try:
                source = stack.enter_context(containers.open_input(self.source, containers.MOV, max_pixels=MAX_PIXELS))
            except (OSError, av.error.FFmpegError) as error:
                raise LiveSourceError("not_recording") from error
            self._loop(source)

    def _loop(self, source) -> None:
        video = next((s for s in source.streams.video if s.codec_context is not None), None)
        audio = next((s for s in source.streams.audio if s.codec_context is not None), None)
        if video is None:
            raise LiveSourceError("no_video")
        if video.codec_context.name != "h264":
            raise LiveSourceError("encoding", what=video.codec_context.name)
        if audio is not None and audio.codec_context.name != "aac":
            raise LiveSourceError("audio_encoding", what=audio.codec_context.name)
        streams = [s for s in (video, audio) if s is not None]
        length, first = _length(source, streams)
        origin = min(first[s.index] * s.time_base for s in streams)
        outputs = Outputs(self.directory, record=False, playable=self.playable)
        copies = {stream.index: outputs.copy_stream(stream) for stream in streams}
        start = time.monotonic()
        try:
            while not self._stop.is_set():
                source.seek(0)
                for packet in source.demux(*streams):
                    if packet.dts is None or packet.size == 0:
                        continue
                    offset = math.ceil(self.loops * length / packet.time_base)
                    seconds = (packet.dts * packet.time_base - origin + self.loops * length) / self.speed
                    if self._stop.wait(max(0.0, start + float(seconds) - time.monotonic())):
                        break
                    packet.pts = None if packet.pts is None else packet.pts + offset
                    packet.dts += offset
                    packet.stream = copies[packet.stream.index]
                    outputs.mux(packet)
                else:
                    self.loops += 1
        finally:
            outputs.close(end=self._end)


def _length(source, streams) -> tuple[Fraction, dict[int, int]]:
    """The video's length as the loop's period (from each stream's first timestamp to the end of its
    last packet, the longest of them), and each stream's first decoding timestamp."""
    first, end = {}, {}
    for packet in source.demux(*streams):
        if packet.dts is None or packet.size == 0:
            continue
        index = packet.stream.index
        first.setdefault(index, packet.dts)
        end[index] = max(end.get(index, packet.dts), packet.dts + (packet.duration or 0))
    if set(first) != {stream.index for stream in streams}:
        raise LiveSourceError("not_recording")
    length = max((end[s.index] - first[s.index]) * s.time_base for s in streams)
    if length <= 0:
        raise LiveSourceError("not_recording")
    return Fraction(length), first
