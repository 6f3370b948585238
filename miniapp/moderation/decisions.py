"""A moderator's decision on several videos, reports, users or lives at once, as admin takes it.

`Decision` says what, on which targets and why; `decision_refusal` says why the services
would refuse it on one target (the confirm page shows it); `decision_take` takes it through
the services, target by target, so a refusal or a no-op on one does not stop the others.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from miniapp.accounts.models import User
from miniapp.moderation import services
from miniapp.moderation.models import ModerationAction, Report

Kind = ModerationAction.Kind
VIDEO_KINDS = (Kind.HIDE, Kind.RESTORE, Kind.REMOVE)
KINDS = (*VIDEO_KINDS, Kind.DISMISS, Kind.BAN, Kind.UNBAN, Kind.END_LIVE)


@dataclass(frozen=True)
class Decision:
    kind: str  # hide, restore, remove (videos); dismiss (reports); ban, unban (users); end_live (lives)
    targets: tuple
    moderator: User
    reason: str = ""
    until: datetime | None = None  # when a ban ends; None: when it is lifted

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"not a decision admin takes: {self.kind}")


@dataclass
class Outcome:
    changed: int = 0
    unchanged: list[str] = field(default_factory=list)  # for each target left as it was, why
    refused: list[str] = field(default_factory=list)  # for each target refused, why


def decision_refusal(decision: Decision, target) -> str:
    """Why the services would refuse `decision` on `target` (its check); empty if they would not."""
    try:
        _check(decision, target)
    except (PermissionDenied, ValidationError) as refusal:
        return _why(refusal)
    return ""


def decision_take(*, decision: Decision) -> Outcome:
    """Take `decision` on each of its targets, each in a transaction of its own (the services')."""
    outcome = Outcome()
    for target in decision.targets:
        try:
            changed = _take(decision, target)
        except (PermissionDenied, ValidationError) as refusal:
            outcome.refused.append(_why(refusal))
            continue
        if changed:
            outcome.changed += 1
        else:
            outcome.unchanged.append(_unchanged(decision, target))
    return outcome


def _check(decision: Decision, target) -> None:
    if decision.kind in VIDEO_KINDS:
        services.video_moderate_check(kind=decision.kind)
    elif decision.kind == Kind.DISMISS:
        services.reports_dismiss_check(moderator=decision.moderator)
    elif decision.kind == Kind.END_LIVE:
        services.live_take_down_check(moderator=decision.moderator)
    else:
        services.user_ban_check(user=target, moderator=decision.moderator)


def _take(decision: Decision, target) -> bool:
    """Whether the service changed anything. Each service calls its own check."""
    kind, moderator, reason = decision.kind, decision.moderator, decision.reason
    if kind in VIDEO_KINDS:
        return services.video_moderate(video=target, kind=kind, moderator=moderator, reason=reason)
    if kind == Kind.DISMISS:
        reports = Report.objects.filter(pk=target.pk)
        return services.reports_dismiss(reports=reports, moderator=moderator, reason=reason) > 0
    if kind == Kind.END_LIVE:
        return services.live_take_down(live=target, moderator=moderator, reason=reason)
    if kind == Kind.BAN:
        ban = services.user_ban(user=target, moderator=moderator, reason=reason, until=decision.until)
        return ban is not None
    return services.user_unban(user=target, moderator=moderator, reason=reason)


def _unchanged(decision: Decision, target) -> str:
    if decision.kind in VIDEO_KINDS:
        return _("“%(title)s” is already %(status)s: nothing changed.") % {
            "title": target.title,
            "status": target.get_status_display(),
        }
    if decision.kind == Kind.DISMISS:
        return _("That report was closed already: nothing changed.")
    if decision.kind == Kind.END_LIVE:
        return _("“%(title)s” has ended already: nothing changed.") % {"title": target.title}
    if decision.kind == Kind.BAN:
        return _("%(name)s is banned already: nothing changed.") % {"name": target.name}
    return _("%(name)s is not banned: nothing changed.") % {"name": target.name}


def _why(refusal: PermissionDenied | ValidationError) -> str:
    return " ".join(refusal.messages) if isinstance(refusal, ValidationError) else str(refusal)
