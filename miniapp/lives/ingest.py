"""A browser's live recording, fed in chunks as it is recorded, turned into HLS as they arrive.

One LiveTranscoder is one session: one MediaRecorder run, from its first chunk (the file's header)
to finish(). Chunks are checked (`chunks`) and go into a pipe that FFmpeg's demuxer reads from in
the session's own thread, which muxes into the live's HLS folder (`output`, `hls`):

- copied when the source is what HLS players take: H.264 in 4:2:0 at most 720p, upright, with a
  keyframe at least every MAX_COPY_GOP seconds (Safari records one every 2 s; Chromium's
  `video/webm;codecs=h264` with `videoKeyFrameIntervalDuration`), and AAC sound: almost no CPU;
- otherwise decoded and encoded again (`encoding`): H.264 with a keyframe every segment, AAC.
  Video and sound are decided apart: Chromium's H.264 comes with Opus, which is encoded to AAC.

For H.264 that could be copied, the decision waits for the source's second keyframe (or
MAX_COPY_GOP seconds of it): no segment could be cut before then anyway. Anything else is encoded
from its first picture on.

A session's media can't run ahead of the clock by more than MAX_LEAD seconds (the thread waits),
and the pipe holds at most MAX_BACKLOG bytes, so a source sending faster than real time is
refused ("too_fast") instead of costing more CPU than a live. Its frames and sound packets are held
to the upload limits (`videos.limits`): codecs, frame size, frames and packets a second.
"""

import collections
import contextlib
import itertools
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import av
from av.stream import Disposition

from miniapp.lives import encoding, sinks
from miniapp.lives.chunks import ChunkChecker
from miniapp.lives.errors import LiveSourceError
from miniapp.lives.hls import Playlist, end_playlist
from miniapp.lives.output import Outputs
from miniapp.videos import containers, limits
from miniapp.videos.limits import Limits, OverLimit

logger = logging.getLogger(__name__)

MAX_COPY_GOP = 2.5  # seconds between keyframes, at most, for a source to be copied (segments as long)
MAX_LEAD = 3.0
MAX_BACKLOG = 16 * 1024 * 1024  # 30 s of a phone's 4 Mb/s: what a camera reconnecting after a stall sends at once
_COPY_PIXEL_FORMATS = {"yuv420p", "yuvj420p"}
# Enough of the stream to know its codecs (the headers say most of it) without waiting seconds of a
# live: FFmpeg's default is to read up to 5 s of it, and to count frames for the rate.
_DEMUXER_OPTIONS = {"analyzeduration": "1000000", "fpsprobesize": "0"}
_MOST_HELD = 2000  # packets read before the first picture decodes: a few seconds of a camera


class _Pipe:
    """Bytes written by feed() and read by FFmpeg's demuxer in the session's thread, which waits for more."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._buffer = bytearray()
        self._closed = False
        self._ready = threading.Condition()

    def has_room(self, size: int) -> bool:
        with self._ready:
            return len(self._buffer) + size <= self.capacity

    def write(self, data: bytes) -> None:
        with self._ready:
            self._buffer += data
            self._ready.notify()

    def close(self) -> None:
        """No more bytes: the reader gets what is left, then the end of the file."""
        with self._ready:
            self._closed = True
            self._ready.notify()

    @property
    def closed(self) -> bool:
        return self._closed

    def read(self, size: int) -> bytes:
        with self._ready:
            while not self._buffer and not self._closed:
                self._ready.wait()
            data = bytes(self._buffer[:size])
            del self._buffer[:size]
            return data


class _Rate:
    """How many packets a stream had in the last second of its own time, against a most."""

    def __init__(self, most: float):
        self.most = most
        self._times = collections.deque()

    def over(self, seconds: float) -> bool:
        self._times.append(seconds)
        while self._times[0] < seconds - 1:
            self._times.popleft()
        return self.count > self.most

    @property
    def count(self) -> int:
        return len(self._times)


class LiveTranscoder:
    """One session of a live: feed() its chunks in order, then finish().

    `directory` is the live's HLS folder (`hls`): a later session continues its playlist.
    `realtime` False lets media run ahead of the clock (tests, benchmarks). `record`: also write
    the session to `recording_path` (fragmented MP4) for the replay. `on_segment(playlist)` is
    called in the session's thread each time a segment is listed (the source is alive).

    feed() never blocks on media work: a web request can call it. All the work runs in one thread
    per session, started by the first chunk.
    """

    def __init__(
        self,
        directory: Path,
        *,
        limits: Limits | None = None,
        realtime: bool = True,
        record: bool = True,
        on_segment: Callable[[Playlist], None] | None = None,
    ):
        self.directory = directory
        self.on_segment = on_segment
        self.limits = limits or Limits()
        self.realtime = realtime
        self.record = record
        self.video_mode: str | None = None  # "copy" or "h264", once decided
        self.audio_mode: str | None = None  # "copy", "aac" or None (no sound)
        self.recording_path: Path | None = None
        self.playable = threading.Event()  # set once this session has a segment in the playlist
        self.last_fed: float | None = None  # time.monotonic() of the last chunk: how long the source has been quiet
        self._checker = ChunkChecker()
        self._pipe = _Pipe(MAX_BACKLOG)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._error: LiveSourceError | None = None
        self._outputs: Outputs | None = None
        self._end = False
        self._finished = False

    @property
    def error(self) -> LiveSourceError | None:
        """Why the session stopped before finish(), if it did."""
        return self._error

    def feed(self, chunk: bytes) -> None:
        """Add the next chunk. Raises LiveSourceError if it doesn't continue the recording (then nothing
        changed: the next good chunk still fits), or if the session has failed or finished."""
        with self._lock:
            if self._error is not None:
                raise self._error
            if self._finished:
                raise LiveSourceError("ended")
            if not self._pipe.has_room(len(chunk)):
                raise LiveSourceError("too_fast")
            self._checker.check(chunk)
            self.last_fed = time.monotonic()
            if not chunk:
                return
            self._pipe.write(chunk)
            if self._thread is None and self._checker.kind is not None:
                self._thread = threading.Thread(target=self._run, name=f"live {self.directory.name}", daemon=True)
                self._thread.start()

    def finish(self, *, end: bool = True, timeout: float = 60) -> Path | None:
        """The source stopped: write out what was fed and close the session. `end`: the live is over
        too (#EXT-X-ENDLIST), else a new session may continue it. Returns the recording, if any.

        Waits for the session's thread (at most `timeout` seconds); does not raise for a failed
        session (see `error`).
        """
        with self._lock:
            self._finished, self._end = True, end
            self._pipe.close()
            thread = self._thread
        if thread is None:
            if end:
                end_playlist(self.directory)
            return None
        thread.join(timeout)
        if thread.is_alive():  # it ends the playlist itself when done
            logger.warning("Live session in %s still writing after %s s", self.directory, timeout)
        elif end:
            end_playlist(self.directory)  # the session may have stopped on an error, before finish()
        return self.recording_path if self.recording_path and self.recording_path.exists() else None

    def _run(self) -> None:
        try:
            with containers.open_file(
                self._pipe, self._checker.kind, max_pixels=4 * self.limits.frame_pixels, options=_DEMUXER_OPTIONS
            ) as source:
                self._transcode(source)
        except LiveSourceError as error:
            self._fail(error)
        except OverLimit as over:
            self._fail(LiveSourceError(over.code, **over.values))
        except (av.error.FFmpegError, OSError):
            if not self._pipe.closed or self._outputs is not None:  # else: stopped before the header was whole
                logger.info("Live source in %s failed", self.directory, exc_info=True)
                self._fail(LiveSourceError("corrupt" if self._outputs is not None else "not_recording"))
        except Exception:
            logger.exception("Live session in %s failed", self.directory)
            self._fail(LiveSourceError("failed"))
        finally:
            self._close_outputs()

    def _close_outputs(self) -> None:
        if self._outputs is not None:
            try:
                self._outputs.close(end=self._end)
            except Exception:
                logger.exception("Closing the live session in %s failed", self.directory)
        elif self._end:
            end_playlist(self.directory)

    def _fail(self, error: LiveSourceError) -> None:
        with self._lock:
            self._error = error
        self._pipe.close()  # feed() refuses from now on; the reader just ends

    def _demux(self, source, streams):
        """The source's packets; a stream cut short once the source stopped just ends."""
        packets = source.demux(*streams)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                return
            except av.error.FFmpegError:
                if self._pipe.closed:
                    return  # finish() came in the middle of a chunk: how a source that stops ends
                raise
            yield packet

    def _transcode(self, source) -> None:
        video, audio = _pick_streams(source)
        if video is None:
            raise LiveSourceError("no_video")
        limits.check_header(video, self.limits)
        if audio is not None:
            limits.check_audio_header(audio, self.limits)
        packets = self._checked(self._demux(source, [s for s in (video, audio) if s is not None]), video, audio)
        held, frames, gop = _hold_first_gop(packets, video, copyable=lambda frame: _copyable(video, frame))
        if not frames:
            return  # the source stopped before its first picture
        first = frames[0]
        copy_video = _copyable(video, first) and gop <= MAX_COPY_GOP
        copy_audio = audio is not None and audio.codec_context.name == "aac"
        self.video_mode = "copy" if copy_video else "h264"
        self.audio_mode = None if audio is None else "copy" if copy_audio else "aac"

        outputs = self._outputs = Outputs(
            self.directory, record=self.record, on_segment=self.on_segment, playable=self.playable
        )
        self.recording_path = outputs.recording_path
        if copy_video:
            streams = {video.index: sinks.Copy(outputs, video)}
        else:
            size = encoding.output_size(*_upright_size(first))
            streams = {video.index: sinks.VideoEncoder(outputs, video, size, self.limits, decoded=frames)}
        if audio is not None:
            streams[audio.index] = sinks.Copy(outputs, audio) if copy_audio else sinks.AudioEncoder(outputs, audio)

        start, origin = time.monotonic(), None
        for packet in itertools.chain(held, packets):
            if packet.dts is not None and packet.time_base is not None:
                seconds = float(packet.dts * packet.time_base)
                origin = seconds if origin is None else origin
                self._pace(seconds - origin, start)
            streams[packet.stream.index].push(packet)
        for sink in streams.values():
            sink.flush()

    def _checked(self, packets, video, audio):
        """The demuxed packets, held to the limits: frames and sound packets a second, sound packet size."""
        video_rate = _Rate(self.limits.fps * 1.05 + 2)  # phones' "30 fps" wander a little above
        audio_rate = _Rate(limits.AUDIO_PACKETS_PER_SECOND)
        audio_bytes = limits.check_audio_header(audio, self.limits) if audio is not None else None
        for packet in packets:
            if packet.dts is not None and packet.time_base is not None:
                seconds = float(packet.dts * packet.time_base)
                if packet.stream.index == video.index:
                    if video_rate.over(seconds):
                        raise OverLimit("frame_rate", fps=video_rate.count, max=round(self.limits.fps))
                elif audio_rate.over(seconds) or (audio_bytes and packet.size > audio_bytes):
                    raise limits.too_much_audio(self.limits)
            yield packet

    def _pace(self, media_seconds: float, start: float) -> None:
        """Wait while the media is more than MAX_LEAD seconds ahead of the clock (not once finishing)."""
        if not self.realtime:
            return
        while not self._pipe.closed:
            ahead = media_seconds - (time.monotonic() - start) - MAX_LEAD
            if ahead <= 0:
                return
            time.sleep(min(ahead, 0.5))


def _pick_streams(container) -> tuple:
    still = Disposition.attached_pic | Disposition.still_image
    videos = [s for s in container.streams.video if s.codec_context is not None and not s.disposition & still]
    audios = [s for s in container.streams.audio if s.codec_context is not None]
    return (videos[0] if videos else None), (audios[0] if audios else None)


def _upright_size(frame: av.VideoFrame) -> tuple[int, int]:
    turned = round(frame.rotation or 0) % 180
    return (frame.height, frame.width) if turned else (frame.width, frame.height)


def _copyable(video: av.stream.Stream, first: av.VideoFrame) -> bool:
    """Whether HLS players take the source's video as it is, its keyframes aside."""
    return (
        video.codec_context.name == "h264"
        and first.format.name in _COPY_PIXEL_FORMATS
        and round(first.rotation or 0) % 360 == 0  # MPEG-TS has no display matrix: the picture must be upright
        and encoding.output_size(*_upright_size(first)) == _upright_size(first)
    )


def _hold_first_gop(packets, video, *, copyable: Callable[[av.VideoFrame], bool]) -> tuple[list, list, float]:
    """Read packets until the first picture decodes and, if `copyable(it)`, until the video's second
    keyframe or MAX_COPY_GOP seconds past its first.

    Returns the packets read, the first decoded frames (the video decoder is fed until one comes
    out: it tells the picture's size, format and rotation, and is kept for encoding) and the
    seconds between the first two keyframes (infinity if the second didn't come in time). Packets
    the decoder has had are marked so they aren't decoded twice.
    """
    held, frames, keyframes, first = [], [], [], None
    for packet in packets:
        held.append(packet)
        if len(held) > _MOST_HELD:
            raise LiveSourceError("corrupt")  # no picture in all this
        if packet.stream.index != video.index or packet.pts is None:
            continue
        if not frames:
            packet.opaque = "decoded"
            # A packet before the first keyframe doesn't decode on its own: the next one may.
            with contextlib.suppress(av.error.InvalidDataError):
                frames = list(packet.decode())
            if frames and not copyable(frames[0]):
                break  # to be encoded whatever its keyframes: no need to wait for them
        seconds = float(packet.pts * packet.time_base)
        first = seconds if first is None else first
        if packet.is_keyframe:
            keyframes.append(seconds)
        span = seconds - (keyframes[0] if keyframes else first)
        if frames and (len(keyframes) >= 2 or span > MAX_COPY_GOP):
            break
    gop = keyframes[1] - keyframes[0] if len(keyframes) >= 2 else float("inf")
    return held, frames, gop
