"""A live room's state as its viewers see it: the likes, the viewers, the recent likers, whether
it is on air. Read from the database, the record every worker shares, by each worker's room
(`lives.room_worker`) when it starts, every CHECK_EVERY, and when it may have missed what its
topic told (`lives.topics`); the viewers are what the workers last said they hold (`Presence`)."""

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from miniapp.accounts.models import Friendship
from miniapp.accounts.serializers import user_body
from miniapp.lives.comments import event_frame
from miniapp.lives.models import Liker, Live, Presence, RoomEvent
from miniapp.lives.topics import LIKERS_SHOWN

# A worker says how many viewers it holds whenever that changes (at most this often) and at
# least every PRESENCE_EVERY; silent PRESENCE_STALE (killed, cut off), its viewers stop counting.
PRESENCE_MIN_GAP = 1.0
PRESENCE_EVERY = 2.0
PRESENCE_STALE = timedelta(seconds=6)
# Events are numbered as they are written but committed in their own order: each read looks
# this far back too for those committed late (the room drops those it has sent).
EVENT_OVERLAP = timedelta(seconds=2)
EVENTS_MAX = 200  # a tick's reading of events, at most


@dataclass
class RoomState:
    likes: int
    status: str  # "live", "paused" (on air, the host's camera quiet), "ended"; "scheduled" before
    likers: list[dict] = field(default_factory=list)  # the latest, up to LIKERS_SHOWN


def status_of(live: Live) -> str:
    return "paused" if live.paused else live.status


def room_state(live_id: int) -> RoomState | None:
    """The room's likes, status and recent likers (None: no such live)."""
    live = Live.objects.filter(pk=live_id).only("likes", "status", "source", "runner_beat", "started").first()
    if live is None:
        return None
    return RoomState(likes=live.likes, status=status_of(live), likers=likers_of(live_id))


def likers_of(live_id: int) -> list[dict]:
    rows = Liker.objects.filter(live_id=live_id).select_related("user").order_by("-last")[:LIKERS_SHOWN]
    return [user_body(row.user) for row in rows]


def _fresh() -> Q:
    return Q(beat__gte=timezone.now() - PRESENCE_STALE)


def viewers_of(live_id: int) -> int:
    """The room's viewers: the sum of what the workers holding them said lately."""
    return Presence.objects.filter(_fresh(), live_id=live_id).aggregate(n=Coalesce(Sum("viewers"), 0))["n"]


def viewers_subquery():
    """`viewers_of` for each live of a queryset: `.annotate(viewers=viewers_subquery())`."""
    fresh = Presence.objects.filter(_fresh(), live_id=OuterRef("pk")).order_by().values("live_id")
    return Coalesce(Subquery(fresh.annotate(n=Sum("viewers")).values("n")), 0)


def presence_say(*, live_id: int, worker: str, viewers: int) -> int:
    """This worker holds `viewers` of the live's viewers (0: none, its row goes). Returns the
    room's count, this worker's included."""
    if viewers:
        Presence.objects.bulk_create(
            [Presence(live_id=live_id, worker=worker, viewers=viewers, beat=timezone.now())],
            update_conflicts=True,
            unique_fields=["live", "worker"],
            update_fields=["viewers", "beat"],
        )
    else:
        Presence.objects.filter(live_id=live_id, worker=worker).delete()
    return viewers_of(live_id)


def event_position(live_id: int) -> int:
    """Where the room's events stand: a worker's room starts reading after it."""
    return RoomEvent.objects.filter(live_id=live_id).order_by("-id").values_list("id", flat=True).first() or 0


def events_since(live_id: int, *, after: int, since=None) -> tuple[list[tuple[int, str, dict]], int, bool]:
    """The room's events after `after` (and, with `since`, those written since then that may
    have committed late), oldest first, as (id, kind, frame): a comment's frame, a removed
    comment's, an entry's notice. Also the last row's id (`after` if none), and whether there
    may be more (EVENTS_MAX rows read: the next page starts after that id)."""
    window = Q(id__gt=after)
    if since is not None:
        window |= Q(id__lte=after, created__gte=since - EVENT_OVERLAP)
    rows = (
        RoomEvent.objects.filter(window, live_id=live_id)
        .select_related("comment__user", "user")
        .order_by("id")[:EVENTS_MAX]
    )
    rows = list(rows)
    events = []
    for row in rows:
        frame = event_frame(row)
        if frame is not None:
            events.append((row.pk, row.kind, frame))
    return events, max([after, *(row.pk for row in rows)]), len(rows) == EVENTS_MAX


def friends_among(user_ids: set[int], others: set[int]) -> set[tuple[int, int]]:
    """The friendships (user, other) between these users and those: who in the room an entry
    is told to."""
    if not user_ids or not others:
        return set()
    return set(
        Friendship.objects.filter(user_id__in=user_ids, friend_id__in=others).values_list("user_id", "friend_id")
    )
