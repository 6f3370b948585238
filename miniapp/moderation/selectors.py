from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from miniapp.accounts.models import Friendship
from miniapp.moderation.models import Ban, LimitHit, Report


def bans_in_force(*, now=None) -> QuerySet[Ban]:
    now = now or timezone.now()
    return Ban.objects.filter(lifted__isnull=True).filter(Q(until__isnull=True) | Q(until__gt=now))


def ban_in_force(user) -> Ban | None:
    """The ban that keeps `user` from liking, sharing, uploading and reporting now, if any."""
    if not user.is_authenticated:
        return None
    return bans_in_force().filter(user=user).order_by("-created").first()


def open_report_weight(video) -> tuple[int, float]:
    """How many users have an open report on `video` (one each at most), and what those
    reports weigh toward hiding it automatically (REPORT_HIDE_AT): 1 each from an account at
    least REPORT_TRUSTED_AFTER_DAYS old that has a friend, REPORT_UNTRUSTED_WEIGHT each from
    the rest. Reports of its comments are not reports of the video. One query."""
    joined_before = timezone.now() - timedelta(days=settings.REPORT_TRUSTED_AFTER_DAYS)
    counts = (
        Report.objects.filter(video=video, status=Report.Status.OPEN, comment=None)
        .annotate(has_friend=Exists(Friendship.objects.filter(user_id=OuterRef("reporter_id"))))
        .aggregate(
            reporters=Count("id"),
            trusted=Count("id", filter=Q(reporter__date_joined__lte=joined_before, has_friend=True)),
        )
    )
    reporters, trusted = counts["reporters"], counts["trusted"]
    return reporters, trusted + (reporters - trusted) * settings.REPORT_UNTRUSTED_WEIGHT


def limit_hits_since(user, *, hours: int | None = None) -> int:
    hours = hours or settings.ABUSE_WINDOW_HOURS
    return LimitHit.objects.filter(user=user, created__gte=timezone.now() - timedelta(hours=hours)).count()
