"""Likes in a live room: viewers tap the heart, their page sends the taps in small batches, and
each batch is counted exactly once, up to a rate per user.

A batch is acknowledged only once its transaction has committed: its taps are in `Live.likes`,
which only ever grows, so an acknowledged tap is never lost (a worker killed after the answer
changes nothing) and the total viewers see never goes back. The page names each batch; one sent
again because its answer was lost is found (`TapBatch`) and answered as before, not counted again.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
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


@dataclass(frozen=True)
class Counted:
    likes: int  # the live's total once this batch is in
    taps: int  # of this batch's, counted
    refused: int  # of this batch's, over the rate
    first: bool  # the user's first like in this live (not for a batch sent again)


def taps_add(*, live_id: int, user: User, taps: int, batch: str) -> Counted:
    """Count a batch of `user`'s taps in the live (on air: else ValidationError), once per
    `batch` id. Run it in the caller's transaction to add to it (the friends' activity)."""
    if not 1 <= taps <= BATCH_MAX:
        raise ValidationError(_("A batch has 1 to %(most)d taps.") % {"most": BATCH_MAX})
    now = timezone.now()
    with transaction.atomic():
        liker, first = _liker(live_id=live_id, user=user, now=now)
        if now - liker.second >= SECOND:
            liker.second, liker.second_taps = now, 0
        counted = max(0, min(taps, TAPS_PER_SECOND - liker.second_taps))
        # The user's batches in this live take turns on their `Liker` row: one sent before is
        # found here, not by a failed insert (which would need a savepoint every time).
        before = TapBatch.objects.filter(live_id=live_id, user=user, batch=batch).values_list("taps", flat=True).first()
        if before is not None:  # sent before: its answer again, nothing counted
            likes = Live.objects.values_list("likes", flat=True).get(pk=live_id)
            return Counted(likes=likes, taps=before, refused=taps - before, first=False)
        TapBatch.objects.create(live_id=live_id, user=user, batch=batch, taps=counted, created=now)
        liker.taps += counted
        liker.second_taps += counted
        if counted:
            liker.last = now
        liker.save(update_fields=["taps", "second", "second_taps", "last"])
        # Last, so that the room's row is locked for as short a time as can be.
        if not Live.objects.filter(pk=live_id, status=Live.Status.LIVE).update(likes=F("likes") + counted):
            raise ValidationError(_("This live is not on air: likes count only while it is."))
        likes = Live.objects.values_list("likes", flat=True).get(pk=live_id)
    return Counted(likes=likes, taps=counted, refused=taps - counted, first=first and counted > 0)


def _liker(*, live_id: int, user: User, now) -> tuple[Liker, bool]:
    """The user's row in the live, locked until the transaction ends; made on the first like."""
    liker = Liker.objects.select_for_update().filter(live_id=live_id, user=user).first()
    if liker is not None:
        return liker, False
    try:
        with transaction.atomic():
            return Liker.objects.create(live_id=live_id, user=user, first=now, last=now, second=now), True
    except IntegrityError:  # a batch of theirs at the same moment made it
        return Liker.objects.select_for_update().get(live_id=live_id, user=user), False
