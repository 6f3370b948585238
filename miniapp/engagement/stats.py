"""A creator's view of one video's share cascade: shares → views → likes → re-shares.

Everything is counted in SQL, in a fixed number of queries whatever the number of
sharers, viewers or likes.
"""

from datetime import date, datetime, time, timedelta

from django.db.models import Count, IntegerField, Max, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, TruncDate, TruncHour
from django.utils import timezone

from miniapp.accounts.models import User
from miniapp.engagement.models import Like, ShareLink, View
from miniapp.videos.models import Video

TOP_SHARERS = 5
HOURLY_FOR = timedelta(days=2)  # younger videos get hourly buckets, older ones daily
MAX_HOURS = 48
MAX_DAYS = 14

CHART_WIDTH = 320
CHART_HEIGHT = 120
CHART_TOP = 16  # room above the tallest bar for its label
CHART_GAP = 0.25  # of each slot, between bars
CHART_BAR_MAX = 24  # a few buckets make slim bars, not slabs


def video_get_for_stats(*, video_id: int, user) -> Video | None:
    """The video, if `user` may read its stats: its author, or staff. Any status."""
    if not user.is_authenticated:
        return None
    videos = Video.objects.filter(pk=video_id)
    if not user.is_staff:
        videos = videos.filter(author=user)
    return videos.first()


def _count_per_sharer(rows, sharer_field: str) -> Subquery:
    """One sharer's count of `rows` (already narrowed to the video), for an annotation on User."""
    grouped = rows.filter(**{sharer_field: OuterRef("pk")}).values(sharer_field).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(grouped, output_field=IntegerField()), Value(0))


def top_sharers(video: Video, *, limit: int = TOP_SHARERS) -> list[dict]:
    """The people whose links did the most for `video`: one query, however many sharers."""
    shares = ShareLink.objects.filter(video=video)
    users = (
        User.objects.filter(pk__in=shares.values("sharer_id"))
        .annotate(
            n_shares=_count_per_sharer(shares, "sharer"),
            n_views=_count_per_sharer(View.objects.filter(video=video), "share__sharer"),
            n_likes=_count_per_sharer(Like.objects.filter(video=video), "share__sharer"),
        )
        .order_by("-n_likes", "-n_views", "-n_shares", "pk")[:limit]
    )
    return [{"user": u, "shares": u.n_shares, "views": u.n_views, "likes": u.n_likes} for u in users]


def _hour_starts(first: datetime, last: datetime) -> list[datetime]:
    starts, current = [], first
    while current <= last:
        starts.append(current)
        current = timezone.localtime(current + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    return starts


def likes_over_time(video: Video, *, now: datetime | None = None) -> tuple[str, list[dict]]:
    """Likes per hour (a video younger than two days) or per day (the last 14), zero-filled.

    Buckets follow the current time zone. Returns the unit ("hour" or "day") and the
    buckets, oldest first, as {"start": aware datetime, "likes": n}.
    """
    now = timezone.localtime(now or timezone.now())
    tz = timezone.get_current_timezone()
    likes = Like.objects.filter(video=video)
    if now - video.created < HOURLY_FOR:
        this_hour = now.replace(minute=0, second=0, microsecond=0)
        first = timezone.localtime(video.created).replace(minute=0, second=0, microsecond=0)
        first = min(max(first, this_hour - timedelta(hours=MAX_HOURS - 1)), this_hour)
        counted = (
            likes.filter(created__gte=first)
            .annotate(bucket=TruncHour("created", tzinfo=tz))
            .values("bucket")
            .annotate(n=Count("pk"))
            .values_list("bucket", "n")
        )
        found = {timezone.localtime(bucket): n for bucket, n in counted}
        return "hour", [{"start": start, "likes": found.get(start, 0)} for start in _hour_starts(first, this_hour)]
    today = now.date()
    first_day = max(timezone.localtime(video.created).date(), today - timedelta(days=MAX_DAYS - 1))
    counted = (
        likes.filter(created__gte=_midnight(first_day, tz))
        .annotate(bucket=TruncDate("created", tzinfo=tz))
        .values("bucket")
        .annotate(n=Count("pk"))
        .values_list("bucket", "n")
    )
    found = dict(counted)
    days = [first_day + timedelta(days=i) for i in range((today - first_day).days + 1)]
    return "day", [{"start": _midnight(day, tz), "likes": found.get(day, 0)} for day in days]


def _midnight(day: date, tz) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz)


def video_share_stats(video: Video, *, now: datetime | None = None) -> dict:
    """The cascade of `video` in numbers, for its author. Five queries.

    `likes` is the video's counter; the others are counted from the rows.
    """
    shares = ShareLink.objects.filter(video=video).aggregate(
        shares=Count("pk"), reshares=Count("pk", filter=Q(parent__isnull=False)), deepest=Max("depth")
    )
    views = View.objects.filter(video=video).aggregate(
        views=Count("pk"), via_shares=Count("pk", filter=Q(share__isnull=False))
    )
    unit, buckets = likes_over_time(video, now=now)
    return {
        "shares": shares["shares"],
        "reshares": shares["reshares"],
        "views": views["views"],
        "views_via_shares": views["via_shares"],
        "likes": video.like_count,
        "likes_via_shares": Like.objects.filter(video=video, share__isnull=False).count(),
        "deepest_chain": shares["deepest"] or 0,
        "top_sharers": top_sharers(video),
        "unit": unit,
        "likes_over_time": buckets,
    }


def likes_chart(buckets: list[dict]) -> dict:
    """Geometry of a bar chart of `buckets` for an inline SVG (viewBox 0 0 320 120).

    Each bar carries its bucket; a bucket without likes gets a 1-unit stub so it can
    still be seen and hovered. `max` labels the dashed line at the top bar's height;
    `first` and `last` are the starts of the first and last buckets.
    """
    top = max((b["likes"] for b in buckets), default=0)
    slot = CHART_WIDTH / max(len(buckets), 1)
    width = min(slot * (1 - CHART_GAP), CHART_BAR_MAX)
    room = CHART_HEIGHT - CHART_TOP
    bars = []
    for index, bucket in enumerate(buckets):
        height = room * bucket["likes"] / top if top else 0
        height = max(height, 1)
        bars.append(
            {
                "x": round(index * slot + (slot - width) / 2, 2),
                "y": round(CHART_HEIGHT - height, 2),
                "width": round(width, 2),
                "height": round(height, 2),
                "start": bucket["start"],
                "likes": bucket["likes"],
            }
        )
    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "top": CHART_TOP,
        "bars": bars,
        "max": top,
        "total": sum(b["likes"] for b in buckets),
        "first": buckets[0]["start"] if buckets else None,
        "last": buckets[-1]["start"] if buckets else None,
    }
