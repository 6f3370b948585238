"""Likes in a live room: viewers tap the heart, their page sends the taps in small batches, and
each batch is counted exactly once, up to a rate per user.

A batch is acknowledged only once its transaction has committed: its taps are in `Live.likes`,
which only ever grows, so an acknowledged tap is never lost (a worker killed after the answer
changes nothing) and the total viewers see never goes back. The page names each batch; one sent
again because its answer was lost is found (`TapBatch`) and answered as before, not counted again.

Batches are committed together (a group commit). Hundreds of tappers each send a few batches a
second into one room, and a transaction apiece would queue them all on one row (`Live.likes`),
on SQLite on the one writer's lock, each waiting in turn. Instead the batches that arrive while a
commit runs wait for the next one, which counts all of them in one transaction: the request
whose batch found no commit running leads it, in its own thread, and hands the lead on to the
first of those that came meanwhile. A worker thus runs one tap transaction at a time, whatever
the rate, and a batch waits at most for the commit before its own.
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from miniapp.accounts.models import User
from miniapp.lives.models import Liker, Live, TapBatch

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


def taps_add(*, live_id: int, user: User, taps: int, batch: str, on_first: FirstLike | None = None) -> Counted:
    """Count a batch of `user`'s taps in the live (on air: else ValidationError), once per
    `batch` id, and answer once it has committed. `on_first(user, live)` runs in the same
    transaction when this is the user's first counted like in the live."""
    if not 1 <= taps <= BATCH_MAX:
        raise ValidationError(_("A batch has 1 to %(most)d taps.") % {"most": BATCH_MAX})
    return desk.add(_Batch(live_id=live_id, user=user, taps=taps, batch=batch, on_first=on_first))


@dataclass(eq=False)
class _Batch:
    live_id: int
    user: User
    taps: int
    batch: str
    on_first: FirstLike | None
    done: threading.Event = field(default_factory=threading.Event)
    lead: bool = False  # woken to lead the next commit, not with its answer
    answer: "Counted | None" = None  # None once done: its live is not on air
    error: BaseException | None = None


class Desk:
    """This worker's batches waiting for a commit, and whether one is running."""

    def __init__(self):
        self.lock = threading.Lock()
        self.waiting: list[_Batch] = []
        self.committing = False

    def add(self, batch: _Batch) -> Counted:
        with self.lock:
            self.waiting.append(batch)
            leads = not self.committing
            self.committing = True
        if leads:
            self._commit_waiting()
        while True:
            batch.done.wait()
            if not batch.lead:
                break
            batch.lead = False
            batch.done.clear()
            self._commit_waiting()  # takes this batch too: it is the first waiting
        if batch.error is not None:
            raise batch.error  # the leader's (every batch of that commit gets the same one)
        if batch.answer is None:  # said here, in this request's language
            raise ValidationError(_("This live is not on air: likes count only while it is."))
        return batch.answer

    def _commit_waiting(self) -> None:
        with self.lock:
            batches, self.waiting = self.waiting, []
        try:
            answers = _commit(batches)
        except BaseException as error:  # the database away, say: every batch of it is told
            answers = [error] * len(batches)
        for batch, answer in zip(batches, answers, strict=True):
            if isinstance(answer, BaseException):
                batch.error = answer
            else:
                batch.answer = answer
            batch.done.set()
        with self.lock:
            if self.waiting:  # came during the commit: the first of them leads the next
                self.waiting[0].lead = True
                self.waiting[0].done.set()
            else:
                self.committing = False


desk = Desk()


def _commit(batches: list[_Batch]) -> list[Counted | None]:
    """Count `batches` in one transaction: the answer of each, in order (None: its live is not
    on air)."""
    now = timezone.now()
    with transaction.atomic():
        # The rooms first, locked (always in this order: rooms, then likers): taps count only
        # while on air, and the total is read and added to under the lock.
        lives = {
            live.pk: live
            for live in Live.objects.select_for_update()
            .filter(pk__in={batch.live_id for batch in batches}, status=Live.Status.LIVE)
            .order_by("pk")
            .only("status", "likes", "host_id")
        }
        counting = [batch for batch in batches if batch.live_id in lives]
        likers = _likers(counting, now)
        sent_before = {
            (live_id, user_id, name): taps
            for live_id, user_id, name, taps in TapBatch.objects.filter(
                live_id__in=lives,
                user_id__in={batch.user.pk for batch in counting},
                batch__in={batch.batch for batch in counting},
            ).values_list("live_id", "user_id", "batch", "taps")
        }
        counts: dict[_Batch, tuple[int, bool]] = {}  # counted, and the user's first like
        added = dict.fromkeys(lives, 0)
        changed, new_batches = set(), []
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
            changed.add(liker)
            sent_before[key] = counted
            added[batch.live_id] += counted
            new_batches.append(
                TapBatch(live_id=batch.live_id, user=batch.user, batch=batch.batch, taps=counted, created=now)
            )
        TapBatch.objects.bulk_create(new_batches)
        Liker.objects.bulk_update(changed, ["taps", "second", "second_taps", "last"])
        for live_id, count in added.items():
            if count:
                Live.objects.filter(pk=live_id).update(likes=F("likes") + count)
                lives[live_id].likes += count
        for batch, (_, first) in counts.items():
            if first and batch.on_first is not None:
                batch.on_first(batch.user, lives[batch.live_id])
    answers = []
    for batch in batches:
        if batch not in counts:
            answers.append(None)
            continue
        counted, first = counts[batch]
        answers.append(
            Counted(likes=lives[batch.live_id].likes, taps=counted, refused=batch.taps - counted, first=first)
        )
    return answers


def _likers(batches: list[_Batch], now) -> dict[tuple[int, int], Liker]:
    """The batches' users' rows in their lives, locked until the transaction ends; made for a
    first like (another worker's commit may make one at the same moment: then it is read)."""
    keys = {(batch.live_id, batch.user.pk) for batch in batches}
    if not keys:
        return {}

    def locked():
        rows = (
            Liker.objects.select_for_update()
            .filter(live_id__in={live for live, _ in keys}, user_id__in={user for _, user in keys})
            .order_by("pk")
        )
        return {(row.live_id, row.user_id): row for row in rows if (row.live_id, row.user_id) in keys}

    found = locked()
    if len(found) < len(keys):
        missing = keys - found.keys()
        Liker.objects.bulk_create(
            [Liker(live_id=live, user_id=user, first=now, last=now, second=now) for live, user in missing],
            ignore_conflicts=True,
        )
        found = locked()
    return found
