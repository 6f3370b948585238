"""The home feed's order, in SQL, a page at a time.

Three tiers, one after the other (the viewer's friends are read once a request):
  "f"  videos the viewer's friends liked, or someone shared into one of the viewer's groups, in
       the last FEED_FRIENDS_DAYS (not the viewer's own): most friends and groups first, then
       the most recent such like or share;
  "h"  every other published video, by hot score (`videos.hotness`), the `video_hot` index;
  "w"  what the viewer watched in the last FEED_SEEN_DAYS, by hot score, so the feed never
       runs dry.
Videos the viewer watched recently are left out of "f" and "h". Signed-out visitors get "h"
alone, without exclusions.

A cursor names the tier and where in it the next page starts: an offset in "f" (a short list,
aggregated per request), the last (hot, id) pair in "h" and "w" (keyset: the index is walked
from there). A page that ends a tier continues with the next one.
"""

import base64
import binascii
import json
import math
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from miniapp.accounts.selectors import group_ids_of
from miniapp.engagement.models import Activity, Like, View
from miniapp.engagement.selectors import friends_whose_likes_show
from miniapp.videos.models import Video

TIERS = ("f", "h", "w")
MAX_OFFSET = 10_000
MAX_CURSOR = 200  # characters; real cursors are under 60


class BadCursor(ValueError):
    pass


@dataclass(frozen=True)
class Cursor:
    tier: str = "f"
    offset: int = 0
    hot: float | None = None
    id: int | None = None

    def encode(self) -> str:
        fields = {"t": self.tier}
        if self.tier == "f":
            fields["o"] = self.offset
        elif self.hot is not None:
            fields.update(s=repr(self.hot), i=self.id)
        return base64.urlsafe_b64encode(json.dumps(fields, separators=(",", ":")).encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> "Cursor":
        if len(text) > MAX_CURSOR:  # also keeps json.loads from recursing on deep nesting
            raise BadCursor("This feed cursor is not valid. Start again from the first page.")
        try:
            fields = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
            tier = fields["t"]
            if tier not in TIERS:
                raise BadCursor
            if tier == "f":
                offset = fields["o"]
                if type(offset) is not int or not 0 <= offset <= MAX_OFFSET:
                    raise BadCursor
                return cls(tier, offset=offset)
            if "s" not in fields:
                return cls(tier)
            hot, video_id = float(fields["s"]), fields["i"]
            if not math.isfinite(hot) or type(video_id) is not int:
                raise BadCursor
            return cls(tier, hot=hot, id=video_id)
        except (BadCursor, binascii.Error, ValueError, TypeError, KeyError, AttributeError, RecursionError):
            raise BadCursor("This feed cursor is not valid. Start again from the first page.") from None


def _published() -> QuerySet[Video]:
    return Video.objects.filter(status=Video.Status.PUBLISHED).select_related("author")


def _seen(viewer_id: int) -> QuerySet:
    since = timezone.localdate() - timedelta(days=settings.FEED_SEEN_DAYS)
    return View.objects.filter(viewer_id=viewer_id, day__gte=since).values("video_id")


@dataclass(frozen=True)
class _Viewer:
    id: int
    # Friends whose likes show (see `friends_whose_likes_show`), read once a request: a literal
    # list lets both databases use like_user_created.
    friend_ids: list[int]
    # The viewer's groups, read once a request too.
    group_ids: list[int]


def _friend_likes(viewer: _Viewer) -> QuerySet[Like]:
    """The likes the viewer's friends gave in the last FEED_FRIENDS_DAYS."""
    since = timezone.now() - timedelta(days=settings.FEED_FRIENDS_DAYS)
    return Like.objects.filter(user_id__in=viewer.friend_ids, created__gte=since)


def _group_shares(viewer: _Viewer) -> QuerySet[Activity]:
    """Others' posts of videos into the viewer's groups in the last FEED_FRIENDS_DAYS (index `activity_group`)."""
    since = timezone.now() - timedelta(days=settings.FEED_FRIENDS_DAYS)
    return Activity.objects.filter(
        group_id__in=viewer.group_ids, verb=Activity.Verb.SHARE, retracted=False, created__gte=since
    ).exclude(actor_id=viewer.id)


def _friends_tier(viewer: _Viewer, *, offset: int, limit: int, exclude: list[int]) -> list[Video]:
    """Aggregated from the friends' recent likes (index `like_user_created`) and the groups'
    recent posts, then the page's videos are loaded by id.

    A video's weight is its friends' likes plus the groups it was shared into. Only the top
    `offset + limit` by likes alone can be on the page besides the shared ones (sharing only
    adds weight), so the likes are cut there in SQL and the two merged here."""
    if not viewer.friend_ids and not viewer.group_ids:
        return []
    # No join with the videos: without table statistics SQLite would walk every video and probe
    # its likes. Unpublished videos and the viewer's own are few, so they are left out by id.
    unpublished = Video.objects.filter(status__in=[s for s in Video.Status if s != Video.Status.PUBLISHED]).values("pk")
    mine = Video.objects.filter(author_id=viewer.id).values("pk")

    def rows(source: QuerySet, weight) -> list[dict]:
        return list(
            source.exclude(video_id__in=unpublished)
            .exclude(video_id__in=mine)
            .exclude(video_id__in=_seen(viewer.id))
            .exclude(video_id__in=exclude)
            .values("video_id")
            .annotate(weight=weight, last=Max("created"))
            .order_by("-weight", "-last", "-video_id")[: offset + limit]
        )

    ranked: dict[int, list] = {}
    if viewer.friend_ids:
        for row in rows(_friend_likes(viewer), Count("id")):
            ranked[row["video_id"]] = [row["weight"], row["last"]]
    if viewer.group_ids:
        for row in rows(_group_shares(viewer), Count("group_id", distinct=True)):
            entry = ranked.setdefault(row["video_id"], [0, row["last"]])
            entry[0] += row["weight"]
            entry[1] = max(entry[1], row["last"])
    order = sorted(ranked, key=lambda video_id: (ranked[video_id][0], ranked[video_id][1], video_id), reverse=True)
    page = order[offset : offset + limit]
    videos = _published().in_bulk(page)
    return [videos[video_id] for video_id in page if video_id in videos]


def _hot_tier(viewer: _Viewer | None, tier: str, *, after: Cursor, limit: int, exclude: list[int]) -> list[Video]:
    videos = _published().exclude(pk__in=exclude)
    if viewer is not None and tier == "h":
        if viewer.friend_ids or viewer.group_ids:
            tier_f = Q(pk__in=_friend_likes(viewer).values("video_id")) if viewer.friend_ids else Q(pk__in=[])
            if viewer.group_ids:
                tier_f |= Q(pk__in=_group_shares(viewer).values("video_id"))
            videos = videos.exclude(tier_f & ~Q(author_id=viewer.id))
        videos = videos.exclude(pk__in=_seen(viewer.id))
    elif tier == "w":
        videos = videos.filter(pk__in=_seen(viewer.id))
    if after.hot is not None:
        videos = videos.filter(Q(hot__lt=after.hot) | Q(hot=after.hot, pk__lt=after.id))
    return list(videos.order_by("-hot", "-id")[:limit])


def feed_page(*, viewer, size: int, cursor: Cursor | None = None, exclude=()) -> tuple[list[Video], Cursor | None]:
    """One page of the home feed for `viewer`, and the cursor of the next page (None at the end)."""
    who = None
    if viewer.is_authenticated:
        friends = friends_whose_likes_show(viewer.pk).values_list("friend_id", flat=True)
        groups = group_ids_of(viewer.pk).values_list("group_id", flat=True)
        who = _Viewer(viewer.pk, list(friends), list(groups))
    tiers = TIERS if who else ("h",)
    cursor = cursor or Cursor(tiers[0])
    if cursor.tier not in tiers:
        return [], None
    exclude = list(exclude)
    page: list[Video] = []
    for tier in tiers[tiers.index(cursor.tier) :]:
        here = cursor if tier == cursor.tier else Cursor(tier)
        wanted = size - len(page)
        if tier == "f":
            found = _friends_tier(who, offset=here.offset, limit=wanted + 1, exclude=exclude)
        else:
            found = _hot_tier(who, tier, after=here, limit=wanted + 1, exclude=exclude)
        page += found[:wanted]
        if len(found) > wanted:  # this tier goes on after the page
            last = page[-1]
            if tier == "f":
                return page, Cursor("f", offset=here.offset + wanted)
            return page, Cursor(tier, hot=last.hot, id=last.pk)
        if len(page) == size:  # the page ends exactly where the tier does
            following = tiers[tiers.index(tier) + 1 :]
            return page, Cursor(following[0]) if following else None
    return page, None
