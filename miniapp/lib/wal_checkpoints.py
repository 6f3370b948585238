"""SQLite's WAL checkpoints, off a busy writer's path.

In WAL mode SQLite appends each commit to the write-ahead log, and moves the log back into the
database file (a checkpoint) in whichever connection's commit takes the log past 1,000 pages,
inside that commit. A thread that commits a few times a millisecond pays for them all: for the
live rooms' tap commits, one commit in about 160 took 3 to 20 ms longer (traced), and every
tap request waiting for it waited that much more.

So such a thread's connection leaves checkpoints alone (`hold_off`, SQLite's
`wal_autocheckpoint=0`), and a thread of its own (`Checkpoints`) makes them every INTERVAL while
the writer runs, and once more when it stops. Its checkpoints are PASSIVE: they wait for no
reader or writer, and no writer waits for them (SQLite's sqlite3 module lets go of the GIL while
they run). Other connections keep SQLite's default. Nothing changes on other databases.
"""

import logging
import threading

from django.db import connection

log = logging.getLogger(__name__)


def hold_off() -> None:
    """In the busy writer's thread: its connection (opened now if it is not) makes no
    checkpoints; a `Checkpoints` thread makes them."""
    connection.ensure_connection()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_autocheckpoint=0")


class Checkpoints:
    """A thread that checkpoints the default SQLite database's log every INTERVAL seconds,
    from `start` to `stop`."""

    INTERVAL = 0.5

    def __init__(self):
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        if connection.vendor != "sqlite" or self.thread is not None:
            return
        self.stopping.clear()
        self.thread = threading.Thread(target=self._run, name="wal-checkpoints", daemon=True)
        self.thread.start()

    def stop(self, timeout: float = 10) -> None:
        """Make a last checkpoint and end the thread."""
        thread, self.thread = self.thread, None
        if thread is not None:
            self.stopping.set()
            thread.join(timeout)

    def _run(self) -> None:
        try:
            while not self.stopping.wait(self.INTERVAL):
                self.checkpoint()
            self.checkpoint()
        finally:
            connection.close()

    def checkpoint(self) -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except Exception:  # the next one tries again; meanwhile the log only grows
            log.warning("a WAL checkpoint failed", exc_info=True)
            connection.close()
