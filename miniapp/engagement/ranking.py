"""The home feed's order, in SQL, a page at a time.

Three tiers, one after the other (the viewer's friends are read once a request):
  "f"  videos the viewer's friends liked in the last FEED_FRIENDS_DAYS (not the viewer's own),
       most friends first, then the most recent friend like;
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

from miniapp.engagement.models import Like, View
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


def _friend_likes(viewer: _Viewer) -> QuerySet[Like]:
    """The likes the viewer's friends gave in the last FEED_FRIENDS_DAYS."""
    since = timezone.now() - timedelta(days=settings.FEED_FRIENDS_DAYS)
    return Like.objects.filter(user_id__in=viewer.friend_ids, created__gte=since)


def _friends_tier(viewer: _Viewer, *, offset: int, limit: int, exclude: list[int]) -> list[Video]:
    """Aggregated from the friends' recent likes alone (index `like_user_created`), then the
    page's videos are loaded by id."""
    if not viewer.friend_ids:
        return []
    # No join with the videos: without table statistics SQLite would walk every video and probe
    # its likes. Unpublished videos and the viewer's own are few, so they are left out by id.
    unpublished = Video.objects.filter(status__in=[s for s in Video.Status if s != Video.Status.PUBLISHED]).values("pk")
    mine = Video.objects.filter(author_id=viewer.id).values("pk")
    rows = list(
        _friend_likes(viewer)
        .exclude(video_id__in=unpublished)
        .exclude(video_id__in=mine)
        .exclude(video_id__in=_seen(viewer.id))
        .exclude(video_id__in=exclude)
        .values("video_id")
        .annotate(friends=Count("id"), last=Max("created"))
        .order_by("-friends", "-last", "-video_id")[offset : offset + limit]
    )
    videos = _published().in_bulk([row["video_id"] for row in rows])
    return [videos[row["video_id"]] for row in rows if row["video_id"] in videos]


def _hot_tier(viewer: _Viewer | None, tier: str, *, after: Cursor, limit: int, exclude: list[int]) -> list[Video]:
    videos = _published().exclude(pk__in=exclude)
    if viewer is not None and tier == "h":
        if viewer.friend_ids:
            friends_first = Q(pk__in=_friend_likes(viewer).values("video_id")) & ~Q(author_id=viewer.id)
            videos = videos.exclude(friends_first)
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
        who = _Viewer(viewer.pk, list(friends))
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
