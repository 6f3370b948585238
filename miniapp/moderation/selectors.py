from datetime import timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from miniapp.moderation.models import Ban, LimitHit, Report


def bans_in_force(*, now=None) -> QuerySet[Ban]:
    now = now or timezone.now()
    return Ban.objects.filter(lifted__isnull=True).filter(Q(until__isnull=True) | Q(until__gt=now))


def ban_in_force(user) -> Ban | None:
    """The ban that keeps `user` from liking, sharing, uploading and reporting now, if any."""
    if not user.is_authenticated:
        return None
    return bans_in_force().filter(user=user).order_by("-created").first()


def open_reporters(video) -> int:
    """How many different users have an open report on `video`."""
    return Report.objects.filter(video=video, status=Report.Status.OPEN).values("reporter").distinct().count()


def limit_hits_since(user, *, hours: int | None = None) -> int:
    hours = hours or settings.ABUSE_WINDOW_HOURS
    return LimitHit.objects.filter(user=user, created__gte=timezone.now() - timedelta(hours=hours)).count()
