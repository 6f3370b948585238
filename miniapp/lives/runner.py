"""The worker's side of the lives on air: it runs the sources of those it has taken, and takes
those that nobody runs.

Every worker (each Daphne process: `asgi.py` starts its Runner) looks every TICK_SECONDS:
- the lives it runs: still on air, it says so (`Live.runner_beat`); ended (by the host, a
  moderator, on another worker), it stops their source, and the playlist gets its ENDLIST;
- a clip live on air whose runner has been silent for RUNNER_TIMEOUT (its worker stopped, or
  none has taken it yet: just started, or `seed_demo`'s) is taken by one worker (a conditional
  UPDATE decides between two) and goes on in the same playlist, after a discontinuity.

- a camera live whose socket has sent nothing for HOST_AWAY ends (`lives.consumers` beats);
- an ended camera live's recordings become its replay (`lives.replays`).

So a live outlives the worker that started it, and `make run` shows `seed_demo`'s live on
air as soon as the server is up. The source writes into the live's folder in the shared
MEDIA_ROOT; any worker serves the playlist and segments (`lives.views.media`).
"""

import logging
import os
import secrets
import socket
import threading
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections, connection
from django.db.models import Q
from django.utils import timezone

from miniapp.lives import replays, services
from miniapp.lives.looped import LoopedLive
from miniapp.lives.models import CAMERA_GONE, HOST_AWAY, RUNNER_TIMEOUT, Live

log = logging.getLogger(__name__)

ORIGIN = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
TICK_SECONDS = 1.0
HOST_AWAY_REASON = "The host's camera sent nothing for 30 seconds."


class Runner:
    def __init__(self, *, origin: str = ORIGIN, speed: float = 1):
        self.origin = origin
        self.speed = speed
        self.sources: dict[int, LoopedLive] = {}
        self.replays: list[threading.Thread] = []  # replays being made (tests wait for them)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="live runner", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop looking and stop every source (their lives stay on air: another worker takes them)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        for source in self.sources.values():
            source.stop(end=False)
        self.sources.clear()

    def _loop(self) -> None:
        while not self._stop.wait(TICK_SECONDS):
            try:
                self.tick()
            except Exception:  # the database away, say: the next tick tries again
                log.exception("live runner tick failed")
            finally:
                close_old_connections()
                connection.close()

    def tick(self) -> None:
        now = timezone.now()
        self._keep(now)
        self._take(now)
        self._end_abandoned(now)
        self._replay(now)

    def _keep(self, now) -> None:
        if not self.sources:
            return
        ids = list(self.sources)
        Live.objects.filter(pk__in=ids, status=Live.Status.LIVE, runner=self.origin).update(runner_beat=now)
        on_air = set(
            Live.objects.filter(pk__in=ids, status=Live.Status.LIVE, runner=self.origin).values_list("pk", flat=True)
        )
        for live_id in ids:
            source = self.sources[live_id]
            if live_id not in on_air:  # ended, or taken by another worker after a long pause
                ended = Live.objects.filter(pk=live_id, status=Live.Status.ENDED).exists()
                source.stop(end=ended)
                del self.sources[live_id]
            elif source.error is not None:  # the clip could not be played: the live ends
                log.warning("live %s: its source failed (%s)", live_id, source.error.code)
                del self.sources[live_id]
                Live.objects.filter(pk=live_id, status=Live.Status.LIVE).update(
                    status=Live.Status.ENDED, ended=now, end_reason=str(source.error.message)[:200]
                )

    def _take(self, now) -> None:
        silent = Q(runner_beat__isnull=True) | Q(runner_beat__lt=now - RUNNER_TIMEOUT)
        orphans = Live.objects.filter(silent, status=Live.Status.LIVE, source=Live.Source.CLIP).select_related("clip")
        for live in orphans[:20]:
            if live.pk in self.sources or live.clip is None:
                continue
            taken = Live.objects.filter(silent, pk=live.pk, status=Live.Status.LIVE).update(
                runner=self.origin, runner_beat=now
            )
            if taken:
                self._play(live)

    def _end_abandoned(self, now) -> None:
        """End the camera lives whose host has sent nothing for HOST_AWAY (any worker may: ending twice is a no-op)."""
        away = now - HOST_AWAY
        quiet = Q(runner_beat__lt=away) | Q(runner_beat__isnull=True, started__lt=away)
        for live in Live.objects.filter(quiet, status=Live.Status.LIVE, source=Live.Source.CAMERA)[:20]:
            services.live_end(live=live, reason=HOST_AWAY_REASON)
            log.info("live %s: ended, its camera quiet since %s", live.pk, live.runner_beat or live.started)

    def _replay(self, now) -> None:
        """Make one ended camera live's recordings its replay, once its socket has written them out
        (and let the live go) or has been gone long enough. In a thread of its own: it takes seconds."""
        written = Q(runner="") | Q(runner_beat__isnull=True) | Q(runner_beat__lt=now - 2 * CAMERA_GONE)
        live = Live.objects.filter(written, status=Live.Status.ENDED, replay_pending=True).first()
        if live is None or not Live.objects.filter(pk=live.pk, replay_pending=True).update(replay_pending=False):
            return  # none waiting, or another worker took it
        thread = threading.Thread(target=self._replay_build, args=(live,), name=f"live {live.pk} replay", daemon=True)
        thread.start()
        self.replays = [t for t in self.replays if t.is_alive()] + [thread]

    @staticmethod
    def _replay_build(live: Live) -> None:
        try:
            replays.replay_build(live)
        except Exception:
            log.exception("live %s: the replay could not be made", live.pk)
        finally:
            connection.close()

    def _play(self, live: Live) -> None:
        source = LoopedLive(Path(live.clip.file.path), Path(settings.MEDIA_ROOT) / live.folder, speed=self.speed)
        source.start()
        self.sources[live.pk] = source
        log.info("live %s: playing %s on %s", live.pk, live.clip.file.name, self.origin)


runner = Runner()
