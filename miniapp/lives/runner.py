"""The worker's side of the lives on air: it runs the sources of those it has taken, and takes
those that nobody runs.

Every worker (each Daphne process: `asgi.py` starts its Runner) looks every TICK_SECONDS:
- the lives it runs: still on air, it says so (`Live.runner_beat`); ended (by the host, a
  moderator, on another worker), it stops their source, and the playlist gets its ENDLIST;
- a clip live on air whose runner has been silent for RUNNER_TIMEOUT (its worker stopped, or
  none has taken it yet: just started, or `seed_demo`'s) is taken by one worker (a conditional
  UPDATE decides between two) and goes on in the same playlist, after a discontinuity.

So a live outlives the worker that started it, and `make run` shows `seed_demo`'s live on
air as soon as the server is up. The source writes into the live's folder in the shared
MEDIA_ROOT; any worker serves the playlist and segments (`lives.views.media`).
"""

import logging
import os
import secrets
import socket
import threading
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections, connection
from django.db.models import Q
from django.utils import timezone

from miniapp.lives.looped import LoopedLive
from miniapp.lives.models import Live

log = logging.getLogger(__name__)

ORIGIN = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
TICK_SECONDS = 1.0
RUNNER_TIMEOUT = timedelta(seconds=10)


class Runner:
    def __init__(self, *, origin: str = ORIGIN, speed: float = 1):
        self.origin = origin
        self.speed = speed
        self.sources: dict[int, LoopedLive] = {}
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

    def _play(self, live: Live) -> None:
        source = LoopedLive(Path(live.clip.file.path), Path(settings.MEDIA_ROOT) / live.folder, speed=self.speed)
        source.start()
        self.sources[live.pk] = source
        log.info("live %s: playing %s on %s", live.pk, live.clip.file.name, self.origin)


runner = Runner()
