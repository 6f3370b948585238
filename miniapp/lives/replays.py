"""A camera live's replay: the recordings of its sessions made into one of the host's videos.

Each session of a camera live (`ingest.LiveTranscoder`) records what it sends to HLS into the
live's folder, `recording-1.mp4`, `recording-2.mp4`... (fragmented MP4, H.264 and AAC). A camera
that restarts (switched, reconnected) makes a new one. Consecutive recordings with the same
streams (codec, picture size, the encoder's parameters) are joined end to end without encoding
again; if the camera changed in between (a front camera of another size, another browser), the
longest such run is the replay. `videos.processing.prepare` then makes it a fast-start MP4 with a
poster, like any upload, and `videos.services.video_create` publishes it.
"""

import dataclasses
import logging
import tempfile
from pathlib import Path

import av
from django.conf import settings
from django.db import transaction

from miniapp.lives import hls
from miniapp.lives.models import Live
from miniapp.videos import processing
from miniapp.videos.limits import Limits
from miniapp.videos.services import video_create

log = logging.getLogger(__name__)

REPLAY_HOURS = 4  # the longest replay kept: a longer live gets none


def replay_limits() -> Limits:
    limits = Limits.from_settings()
    seconds = REPLAY_HOURS * 3600
    return dataclasses.replace(
        limits,
        seconds=seconds,
        bytes=max(limits.bytes, seconds * 1_000_000),  # 8 Mb/s
        megapixels=max(limits.megapixels, 1280 * 720 * 30 * seconds / 1e6),
    )


def recordings(directory: Path) -> list[Path]:
    """The live's recordings in the order they were made (empty ones left out)."""
    found = [path for path in directory.glob("recording-*.mp4") if path.stat().st_size > 0]
    return sorted(found, key=lambda path: int(path.stem.rsplit("-", 1)[1]))


def _signature(path: Path) -> tuple | None:
    """What must be the same for two recordings to join: each stream's codec and parameters."""
    try:
        with av.open(str(path)) as container:
            streams = []
            for stream in container.streams:
                context = stream.codec_context
                if stream.type == "video":
                    streams.append(
                        ("video", context.name, context.width, context.height, bytes(context.extradata or b""))
                    )
                elif stream.type == "audio":
                    streams.append(("audio", context.name, context.sample_rate, context.channels))
            return tuple(streams) if any(s[0] == "video" for s in streams) else None
    except (av.error.FFmpegError, OSError):
        log.info("Recording %s cannot be read", path, exc_info=True)
        return None


def _duration(path: Path) -> float:
    with av.open(str(path)) as container:
        ends = [
            float((packet.pts + (packet.duration or 0)) * packet.time_base)
            for packet in container.demux()
            if packet.pts is not None
        ]
    return max(ends, default=0.0)


def longest_run(paths: list[Path]) -> list[Path]:
    """The longest run (in seconds) of consecutive recordings that can be joined."""
    runs: list[list[Path]] = []
    previous = None  # the signature of the recording before (None: unreadable, or the first)
    for path in paths:
        signature = _signature(path)
        if signature is not None and signature == previous:
            runs[-1].append(path)
        elif signature is not None:
            runs.append([path])
        previous = signature
    return max(runs, key=lambda run: sum(_duration(path) for path in run), default=[])


def join(paths: list[Path], out: Path) -> None:
    """Write `paths` (recordings with the same streams) one after the other into the MP4 `out`."""
    with av.open(str(out), "w", format="mp4") as output:
        streams = None
        offset = 0.0  # where the next recording starts, in seconds
        for path in paths:
            with av.open(str(path)) as source:
                if streams is None:
                    streams = {s.index: output.add_stream_from_template(s) for s in source.streams}
                start, end = None, offset
                for packet in source.demux():
                    if packet.dts is None or packet.size == 0:
                        continue
                    base = packet.time_base
                    if start is None:
                        start = float((packet.pts if packet.pts is not None else packet.dts) * base)
                    shift = round((offset - start) / base)
                    packet.dts += shift
                    if packet.pts is not None:
                        packet.pts += shift
                        end = max(end, float((packet.pts + (packet.duration or 0)) * base))
                    packet.stream = streams[packet.stream.index]
                    output.mux(packet)
                offset = end


def replay_build(live: Live) -> None:
    """Make the ended camera live's recordings its replay, if the host keeps one (a moderator's end
    cleared `replay_pending`). Blocking media work: for a runner's thread, never the event loop."""
    directory = Path(settings.MEDIA_ROOT) / live.folder
    hls.end_playlist(directory)  # its sessions are written out: players may stop waiting (a no-op if done)
    run = longest_run(recordings(directory))
    if not run:
        log.info("Live %s ended with no recording to replay", live.pk)
        return
    with tempfile.TemporaryDirectory(prefix="miniapp-replay-") as tmp:
        work = Path(tmp)
        joined = work / "joined.mp4"
        join(run, joined)
        try:
            prepared = processing.prepare(joined, out_dir=work / "out", limits=replay_limits())
        except processing.VideoRejected as rejected:
            log.info("Live %s: no replay (%s)", live.pk, rejected.code)
            return
        with transaction.atomic():
            current = Live.objects.select_for_update().get(pk=live.pk)
            if not current.keep_replay or current.replay_id is not None:
                return
            video = video_create(author=live.host, title=live.title, description="", prepared=prepared)
            current.replay = video
            current.save(update_fields=["replay"])
    log.info("Live %s: replay %s from %d recording(s)", live.pk, video.pk, len(run))
