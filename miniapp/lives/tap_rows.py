"""The rows a tap commit reads and writes (`lives.taps._commit`), in plain SQL.

A commit of a few batches made about nine statements through the ORM, and the ORM's building
of them (querysets, compilers, model instances) was most of the commit: 3.7 ms of CPU for four
batches in a busy worker, against under 0.1 ms a statement in SQLite (traced in the Daphne of
bench/live_room.py). The commit runs in a thread of its own beside the event loop that writes a
live room's frames, and every millisecond of Python it runs is one the loop waits for the GIL;
a batch waits for the commit before its own as well. So the statements are written out once
here, for SQLite and PostgreSQL alike (`RETURNING` needs SQLite 3.35; Debian 12 ships 3.40),
with the ORM's own adaptation of their values: the same rows, columns and constraints as the
models say.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection

from miniapp.lives.models import Liker, Live, TapBatch


@dataclass
class Room:
    """A live as a commit read it (unlocked: see `likes_add`)."""

    status: str
    likes: int
    host_id: int


@dataclass
class LikerRow:
    """A user's `Liker` row in a live (read, or new for a first like)."""

    taps: int
    first: datetime
    last: datetime
    second: datetime
    second_taps: int


def _marks(values) -> str:
    return ", ".join(["%s"] * len(values))


def _when(value: datetime) -> datetime:
    """A datetime as read: SQLite's come naive (Django's converter parses them), in UTC;
    PostgreSQL's aware."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def rooms_read(cursor, live_ids: set[int]) -> dict[int, Room]:
    """The lives among `live_ids`, as they are now (unlocked: `likes_add` adds to a total only
    while its live is on air, and says when it no longer was)."""
    if not live_ids:
        return {}
    ids = sorted(live_ids)
    cursor.execute(
        f'SELECT "id", "status", "likes", "host_id" FROM "{Live._meta.db_table}" WHERE "id" IN ({_marks(ids)})',
        ids,
    )
    return {live_id: Room(status, likes, host_id) for live_id, status, likes, host_id in cursor.fetchall()}


def likers_locked(cursor, keys: set[tuple[int, int]], now: datetime) -> dict[tuple[int, int], LikerRow]:
    """The `Liker` rows of these (live, user) pairs, locked until the transaction ends: each
    made first (no taps yet, all its moments `now`) where there was none. One upsert does both:
    a row already there is updated to itself, which locks it (on SQLite the transaction's write
    lock, taken at its start, covers them), and every row comes back. The pairs go in order, so
    two commits wait for one another rather than deadlock."""
    if not keys:
        return {}
    made = connection.ops.adapt_datetimefield_value(now)
    cursor.execute(
        f'INSERT INTO "{Liker._meta.db_table}" '
        f'("live_id", "user_id", "taps", "first", "last", "second", "second_taps") '
        f"VALUES {', '.join(['(%s, %s, 0, %s, %s, %s, 0)'] * len(keys))} "
        f'ON CONFLICT ("live_id", "user_id") DO UPDATE SET "live_id" = EXCLUDED."live_id" '
        f'RETURNING "live_id", "user_id", "taps", "first", "last", "second", "second_taps"',
        [value for live, user in sorted(keys) for value in (live, user, made, made, made)],
    )
    return {
        (live, user): LikerRow(taps, _when(first), _when(last), _when(second), second_taps)
        for live, user, taps, first, last, second, second_taps in cursor.fetchall()
    }


def batches_sent(cursor, keys: set[tuple[int, int, str]]) -> dict[tuple[int, int, str], int]:
    """{(live, user, batch id): taps counted} of the batches among `keys` counted before."""
    if not keys:
        return {}
    lives = sorted({key[0] for key in keys})
    users = sorted({key[1] for key in keys})
    names = sorted({key[2] for key in keys})
    cursor.execute(
        f'SELECT "live_id", "user_id", "batch", "taps" FROM "{TapBatch._meta.db_table}" '
        f'WHERE "live_id" IN ({_marks(lives)}) AND "user_id" IN ({_marks(users)}) AND "batch" IN ({_marks(names)})',
        [*lives, *users, *names],
    )
    return {(live, user, name): taps for live, user, name, taps in cursor.fetchall() if (live, user, name) in keys}


def batches_add(cursor, rows: list[tuple[int, int, str, int]], now: datetime) -> None:
    """Record batches (live, user, batch id, taps counted) as counted now."""
    if not rows:
        return
    created = connection.ops.adapt_datetimefield_value(now)
    cursor.execute(
        f'INSERT INTO "{TapBatch._meta.db_table}" ("live_id", "user_id", "batch", "taps", "created") '
        f"VALUES {', '.join(['(%s, %s, %s, %s, %s)'] * len(rows))}",
        [value for row in rows for value in (*row, created)],
    )


def likers_write(cursor, likers: dict[tuple[int, int], LikerRow]) -> None:
    """Write these likers' counts in one statement: new rows made, known ones updated (their
    `first` kept)."""
    if not likers:
        return
    adapt = connection.ops.adapt_datetimefield_value
    params = []
    for (live, user), row in likers.items():
        params += [live, user, row.taps, adapt(row.first), adapt(row.last), adapt(row.second), row.second_taps]
    cursor.execute(
        f'INSERT INTO "{Liker._meta.db_table}" '
        f'("live_id", "user_id", "taps", "first", "last", "second", "second_taps") '
        f"VALUES {', '.join(['(%s, %s, %s, %s, %s, %s, %s)'] * len(likers))} "
        f'ON CONFLICT ("live_id", "user_id") DO UPDATE SET "taps" = EXCLUDED."taps", "last" = EXCLUDED."last", '
        f'"second" = EXCLUDED."second", "second_taps" = EXCLUDED."second_taps"',
        params,
    )


def likes_add(cursor, live_id: int, count: int) -> int | None:
    """Add `count` to the live's total while it is on air: the new total, or None when the live
    is no longer on air (or gone). The live's row stays locked from here to the end of the
    transaction, so this comes last."""
    cursor.execute(
        f'UPDATE "{Live._meta.db_table}" SET "likes" = "likes" + %s '
        f'WHERE "id" = %s AND "status" = %s RETURNING "likes"',
        [count, live_id, Live.Status.LIVE],
    )
    row = cursor.fetchone()
    return None if row is None else row[0]
