from django.db.models import BooleanField, Case, Exists, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.http import Http404

from miniapp.accounts.models import Friendship, Membership
from miniapp.lives.models import Live
from miniapp.lives.room import viewers_subquery


def live_or_404(live_id: int) -> Live:
    live = Live.objects.select_related("host", "replay").filter(pk=live_id).first()
    if live is None:
        raise Http404
    return live


def lives_listed(viewer=None, *, on_air: bool = False) -> QuerySet[Live]:
    """Lives on air, those of people the viewer knows first (friends, members of their groups:
    `near`), the latest started first; then those announced, the soonest first. `on_air`: only
    those on air."""
    near = Value(False, output_field=BooleanField())
    if viewer is not None and viewer.is_authenticated:
        friend = Friendship.objects.filter(user_id=viewer.pk, friend_id=OuterRef("host_id"))
        group_mate = Membership.objects.filter(user_id=OuterRef("host_id"), group__memberships__user_id=viewer.pk)
        near = Case(
            When(Q(Exists(friend)) | Q(Exists(group_mate)), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    tier = Case(
        When(status=Live.Status.LIVE, near=True, then=Value(0)),
        When(status=Live.Status.LIVE, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    lives = Live.objects.filter(status=Live.Status.LIVE) if on_air else Live.objects.exclude(status=Live.Status.ENDED)
    return (
        lives.select_related("host", "replay")
        .annotate(near=near, tier=tier, viewers=viewers_subquery())
        .order_by("tier", "-started", "starts_at", "-id")
    )
