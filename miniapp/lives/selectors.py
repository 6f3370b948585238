from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import Http404

from miniapp.lives.models import Live


def live_or_404(live_id: int) -> Live:
    live = Live.objects.select_related("host", "replay").filter(pk=live_id).first()
    if live is None:
        raise Http404
    return live


def lives_listed() -> QuerySet[Live]:
    """Lives on air (the latest started first), then those announced (the soonest first)."""
    on_air_first = Case(When(status=Live.Status.LIVE, then=Value(0)), default=Value(1), output_field=IntegerField())
    return (
        Live.objects.exclude(status=Live.Status.ENDED)
        .select_related("host", "replay")
        .order_by(on_air_first, "-started", "starts_at", "-id")
    )
