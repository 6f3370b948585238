"""SQLite's WAL checkpoints made beside a busy writer (`lib.wal_checkpoints`)."""

import logging
import threading
import time

import pytest
from django.conf import settings
from django.db import connection, connections

from miniapp.lib import wal_checkpoints

sqlite_only = pytest.mark.skipif(not settings.SQLITE, reason="SQLite's log")


def autocheckpoint() -> int:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        return cursor.fetchone()[0]


@sqlite_only
@pytest.mark.django_db
def test_a_busy_writers_connection_makes_no_checkpoints_of_its_own():
    assert autocheckpoint() == 1000  # SQLite's default, for every other connection
    wal_checkpoints.hold_off()
    assert autocheckpoint() == 0


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_the_thread_checkpoints_every_interval_and_once_more_when_stopped(monkeypatch, caplog):
    made, threads = [], set()
    checkpoint = wal_checkpoints.Checkpoints.checkpoint

    def counted(self):
        checkpoint(self)  # SQLite's statement, for real
        made.append(time.monotonic())
        threads.add((threading.current_thread().name, id(connections["default"])))

    monkeypatch.setattr(wal_checkpoints.Checkpoints, "checkpoint", counted)
    monkeypatch.setattr(wal_checkpoints.Checkpoints, "INTERVAL", 0.02)
    checkpoints = wal_checkpoints.Checkpoints()
    with caplog.at_level(logging.WARNING, logger="miniapp.lib.wal_checkpoints"):
        checkpoints.start()
        checkpoints.start()  # already running: one thread
        deadline = time.monotonic() + 10
        while len(made) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        stopping = time.monotonic()
        checkpoints.stop()
    assert len(made) >= 4 and made[-1] >= stopping  # and the last one, as it stopped
    assert len(threads) == 1 and next(iter(threads))[0] == "wal-checkpoints"  # its own thread and connection
    assert checkpoints.thread is None and not caplog.records  # every checkpoint went through
