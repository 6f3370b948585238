"""Likes in a live room: viewers tap the heart, their page sends the taps in small batches, and
each batch is counted exactly once, up to a rate per user.

A batch is acknowledged only once its transaction has committed: its taps are in `Live.likes`,
which only ever grows, so an acknowledged tap is never lost (a worker killed after the answer
changes nothing) and the total viewers see never goes back. The page names each batch; one sent
again because its answer was lost is found (`TapBatch`) and answered as before, not counted again.

Batches are committed together (a group commit). Hundreds of tappers each send a few batches a
second into one room, and a transaction apiece would queue them all on one row (`Live.likes`),
on SQLite on the one writer's lock, each waiting in turn. Instead a worker's `desk` keeps the
batches that arrive while a commit runs and counts all of them in the next one: one transaction
at a time, whatever the rate, and a batch waits at most for the commit before its own. Who
sends each batch is read in that commit too (the request's session, checked as Django's
`get_user` does, for all the batches at once), so a tap request costs no query of its own.
The commits run in a thread of the desk's own (`CommitThread`), which keeps its database
connection between them; the friends' activities of first likes they commit are published from
the event loop once the batches are answered, and the rooms told their new totals (`topics.news`,
at most every `topics.NEWS_EVERY`).
"""

import asyncio
import contextlib
import contextvars
import enum
import functools
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from asgiref.sync import sync_to_async
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from miniapp.accounts.models import User
from miniapp.accounts.serializers import user_body
from miniapp.lib import wal_checkpoints
from miniapp.lives import tap_rows, topics
from miniapp.lives.models import Live
from miniapp.realtime import events
from miniapp.realtime.auth import session_users

# One user's taps counted per second in a live; the rest are answered as refused. (A thumb
# manages about 10 a second; a batch made offline is counted up to this too.)
TAPS_PER_SECOND = 20
BATCH_MAX = 50  # taps in one batch
SECOND = timedelta(seconds=1)

# Called in the commit's transaction for a user's first counted like in a live (the friends'
# activity: `engagement` passes it, as lives knows nothing of it).
FirstLike = Callable[[User, Live], None]


@dataclass(frozen=True)
class Counted:
    likes: int  # the live's total once this batch is in
    taps: int  # of this batch's, counted
    refused: int  # of this batch's, over the rate
    first: bool  # the user's first like in this live (not for a batch sent again)


class Refused(enum.Enum):
    """Why a batch was not counted at all."""

    SIGNED_OUT = "signed_out"  # its session signs nobody in
    BANNED = "banned"  # its user is banned (`User.banned_until`)
    NO_LIVE = "no_live"
    NOT_ON_AIR = "not_on_air"


@dataclass(eq=False)
class Batch:
    """A batch of taps to count: from `user`, or from whoever `session_key` signs in."""

    live_id: int
    taps: int
    batch: str
    user: User | None = None
    session_key: str | None = None
    on_first: FirstLike | None = None
    answer: asyncio.Future | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Answer:
    counted: Counted | None  # None: refused whole
    refused: Refused | None = None
    status: str = ""  # the live's, when NOT_ON_AIR
    user_id: int | None = None  # who sent it, when known


def taps_add(*, live_id: int, user: User, taps: int, batch: str, on_first: FirstLike | None = None) -> Counted:
    """Count a batch of `user`'s taps in the live (on air: else ValidationError), once per
    `batch` id, in a transaction of its own. `on_first(user, live)` runs in it when this is the
    user's first counted like in the live. (The requests go through `desk`.)"""
    if not 1 <= taps <= BATCH_MAX:
        raise ValidationError(_("A batch has 1 to %(most)d taps.") % {"most": BATCH_MAX})
    (answer,) = _commit_and_tell([Batch(live_id=live_id, taps=taps, batch=batch, user=user, on_first=on_first)])
    if answer.counted is None:
        raise ValidationError(_("This live is not on air: likes count only while it is."))
    return answer.counted


class CommitThread:
    """The thread a desk commits in: it takes every batch waiting when a commit ends and counts
    them in the next, and keeps its database connection from one commit to the next.

    The thread takes the next batches itself rather than waiting to be handed them from the
    event loop: with a busy live room the loop comes round every few milliseconds, and a commit
    that waited for it each time took twice that and more. Each commit's answers go back to the
    loops of their requests in one callback (`_answered`).

    A commit of a few batches costs about 1 ms; opening and closing a SQLite connection around
    each (what `close_old_connections` does for a request, at CONN_MAX_AGE 0) cost 5 ms more. So
    this thread keeps its own connection while taps come, closes it after an error (the next
    commit opens a fresh one) and after IDLE quiet seconds, and then ends; the next batch starts
    it again. On SQLite its commits leave the log's checkpoints to a thread beside it
    (`lib.wal_checkpoints`: one commit in about 160 made one, 3 to 20 ms longer)."""

    IDLE = 1.0

    def __init__(self):
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()  # batches; None: end
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.checkpoints = wal_checkpoints.Checkpoints()  # SQLite's, while this thread runs

    def submit(self, batch: Batch) -> None:
        """Count `batch` in the next commit; its `answer` (a future of its loop) is then set."""
        with self.lock:
            self.jobs.put(batch)
            if self.thread is None:
                self._start()

    def _start(self) -> None:
        self.thread = threading.Thread(target=self._run, name="tap-commits", daemon=True)
        self.thread.start()

    def close(self, timeout: float = 10) -> None:
        """Let the thread end now, its connection closed (the tests, after each)."""
        with self.lock:
            thread = self.thread
            if thread is not None:
                self.jobs.put(None)
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        self.checkpoints.start()
        try:
            ending = False
            while not ending and (batches := self._waiting()):
                if batches[-1] is None:
                    ending, batches = True, batches[:-1]
                if batches:
                    self._commit(batches)
        finally:
            connection.close()
            self.checkpoints.stop()
            with self.lock:
                self.thread = None
                if not self.jobs.empty():  # came as it ended: a thread for them
                    self._start()

    def _commit(self, batches: list[Batch]) -> None:
        try:
            if connection.connection is None:  # first, or after an error
                wal_checkpoints.hold_off()
            with events.holding() as held:
                answers = _commit(batches)
        except BaseException as error:  # noqa: BLE001 (its requests answer it: 503 for the database)
            connection.close()
            answers, held = [error] * len(batches), None
        _answer(batches, answers, held)

    def _waiting(self) -> list:
        """The batches for the next commit: all that wait, once one does (a None last: the thread
        is to end after them). Empty when the thread should end (quiet for IDLE)."""
        try:
            batches = [self.jobs.get(timeout=self.IDLE)]
        except queue.Empty:
            return []
        while batches[-1] is not None:
            try:
                batches.append(self.jobs.get_nowait())
            except queue.Empty:
                break
        return batches


def _answer(batches: list[Batch], answers: list, held) -> None:
    """From the commit thread: hand each loop its batches' answers (normally one loop)."""
    by_loop: dict[asyncio.AbstractEventLoop, list] = {}
    for batch, answer in zip(batches, answers, strict=True):
        by_loop.setdefault(batch.answer.get_loop(), []).append((batch.answer, answer))
    for index, (loop, settled) in enumerate(by_loop.items()):
        # A context of its own: the commit's events are not a request's to hold. A closed loop
        # (a test's, ended) has nobody waiting.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_answered, settled, held if index == 0 else None, context=contextvars.Context())


def _answered(settled: list[tuple[asyncio.Future, object]], held) -> None:
    """On a request's loop: the batches' answers, then the friends' activities of first likes."""
    for future, answer in settled:
        if future.done():  # its request went away: counted all the same
            continue
        if isinstance(answer, BaseException):
            future.set_exception(answer)
        else:
            future.set_result(answer)
    if held is not None:
        events.publish_held(held)
        topics.news.tell_soon()


class Desk:
    """This worker's tap commits (`CommitThread`), for the requests on its event loops."""

    def __init__(self):
        self.committer = CommitThread()

    async def count(self, batch: Batch) -> Answer:
        """`batch`'s answer, once the commit that counts it is in (or its error: the database
        away, say, for every batch of that commit)."""
        batch.answer = asyncio.get_running_loop().create_future()
        self.committer.submit(batch)
        return await batch.answer

    def close(self) -> None:
        self.committer.close()


desk = Desk()


async def count_here(batch: Batch) -> Answer:
    """`batch` counted in a transaction of its own, in the caller's thread (a sync view's: the
    tests' client, a server other than Daphne), where `desk` would commit it in its thread."""
    (answer,) = await sync_to_async(_commit_and_tell)([batch])
    return answer


def _commit_and_tell(batches: list[Batch]) -> list[Answer]:
    """`_commit`, and the rooms told at once (once an outer transaction commits, in one)."""
    answers = _commit(batches)
    transaction.on_commit(topics.news.tell_now)
    return answers


class _OffAir(Exception):
    """A live went off air between a commit's reading it and adding to its total."""


def _commit(batches: list[Batch]) -> list[Answer]:
    """Count `batches` in one transaction: the answer of each, in order. (Its statements are
    `lives.tap_rows`'s: why there.) A live that went off air while the commit ran leaves nothing
    of it: the commit is made again, and that live's batches are refused."""
    now = timezone.now()
    refused = _senders(batches, now)
    tries = 2  # a live that ended meanwhile is ended at the second try (an ended live never starts again)
    while True:
        try:
            return _count(batches, dict(refused), now)
        except _OffAir:
            tries -= 1
            if not tries:
                raise


def _count(batches: list[Batch], refused: dict[Batch, Answer], now) -> list[Answer]:
    with transaction.atomic(), connection.cursor() as cursor:
        # What a commit locks: its tappers' liker rows (their rate, their batches sent, their first
        # like are each one user's), then each live's row only to add to its total, last. So two
        # workers' commits into one room wait for each other only for that last statement.
        rooms = tap_rows.rooms_read(cursor, {batch.live_id for batch in batches if batch not in refused})
        for batch in batches:
            if batch in refused:
                continue
            room = rooms.get(batch.live_id)
            if room is None:
                refused[batch] = Answer(None, Refused.NO_LIVE, user_id=batch.user.pk)
            elif room.status != Live.Status.LIVE:
                refused[batch] = Answer(None, Refused.NOT_ON_AIR, status=room.status, user_id=batch.user.pk)
        counting = [batch for batch in batches if batch not in refused]
        likers = tap_rows.likers_locked(cursor, {(batch.live_id, batch.user.pk) for batch in counting}, now)
        sent_before = tap_rows.batches_sent(cursor, {(batch.live_id, batch.user.pk, batch.batch) for batch in counting})
        counts: dict[Batch, tuple[int, bool]] = {}  # counted, and the user's first like
        added = dict.fromkeys({batch.live_id for batch in counting}, 0)
        changed, new_batches = {}, []  # likers by (live, user)
        for batch in counting:
            key = (batch.live_id, batch.user.pk, batch.batch)
            if key in sent_before:  # sent before (or twice in this commit): its answer again, nothing counted
                counts[batch] = (sent_before[key], False)
                continue
            liker = likers[batch.live_id, batch.user.pk]
            if now - liker.second >= SECOND:
                liker.second, liker.second_taps = now, 0
            counted = max(0, min(batch.taps, TAPS_PER_SECOND - liker.second_taps))
            counts[batch] = (counted, liker.taps == 0 and counted > 0)
            liker.taps += counted
            liker.second_taps += counted
            if counted:
                liker.last = now
            changed[batch.live_id, batch.user.pk] = liker
            sent_before[key] = counted
            added[batch.live_id] += counted
            new_batches.append((*key, counted))
        tap_rows.batches_add(cursor, new_batches, now)
        tap_rows.likers_write(cursor, changed)
        for live_id, count in sorted(added.items()):  # (0 too: still on air, and the total now)
            total = tap_rows.likes_add(cursor, live_id, count)
            if total is None:
                raise _OffAir(live_id)
            rooms[live_id].likes = total
            if count:  # (the rooms hear it once committed: `topics.news`)
                likers = _likers(live_id, counting, counts)
                transaction.on_commit(functools.partial(topics.news.add, live_id, total, likers))
        for batch, (_, first) in counts.items():
            if first and batch.on_first is not None:
                room = rooms[batch.live_id]
                live = Live(pk=batch.live_id, status=room.status, likes=room.likes, host_id=room.host_id)
                batch.on_first(batch.user, live)
    answers = []
    for batch in batches:
        if batch in refused:
            answers.append(refused[batch])
            continue
        counted, first = counts[batch]
        likes = rooms[batch.live_id].likes
        answers.append(Answer(Counted(likes, counted, batch.taps - counted, first), user_id=batch.user.pk))
    return answers


def _likers(live_id: int, counting: list[Batch], counts: dict[Batch, tuple[int, bool]]) -> list[dict]:
    """A commit's likers in a live, for its viewers' frames: the last to send first."""
    likers = {}
    for batch in reversed(counting):
        user = batch.user
        if batch.live_id == live_id and counts[batch][0] and user.pk not in likers:
            likers[user.pk] = user_body(user)
    return list(likers.values())[: topics.LIKERS_SHOWN]


def _senders(batches: list[Batch], now) -> dict[Batch, Answer]:
    """Who sent each batch that came with a session (`batch.user` set), and the refusals of
    those signed out or banned."""
    keys = {batch.session_key for batch in batches if batch.user is None and batch.session_key}
    signed_in = session_users(keys) if keys else {}
    refused = {}
    for batch in batches:
        if batch.user is None:
            batch.user = signed_in.get(batch.session_key)
        if batch.user is None:
            refused[batch] = Answer(None, Refused.SIGNED_OUT)
        elif batch.user.banned_until is not None and batch.user.banned_until > now:
            refused[batch] = Answer(None, Refused.BANNED, user_id=batch.user.pk)
    return refused
