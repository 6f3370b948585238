"""Abuse limits: per-user rates read from settings, and the ban check, for the write APIs.

The throttles only count (allow or refuse). A refusal is noted in one place,
`limit_refused`, which the API's exception handler calls on every 429."""

import logging

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from redis.exceptions import RedisError
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.throttling import UserRateThrottle

from miniapp.moderation import services
from miniapp.moderation.selectors import ban_in_force, bans_in_force

log = logging.getLogger(__name__)


class FailOpenThrottle(UserRateThrottle):
    """A rate limit that lets the request through when its cache (Redis) is unreachable:
    a like must not fail because the counter of likes is briefly away."""

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except (RedisError, OSError):
            log.warning("the %s rate limit was not checked: its cache is unreachable", self.scope, exc_info=True)
            return True


class SettingRateThrottle(FailOpenThrottle):
    """A per-user rate read from a setting at request time (e.g. LIKE_RATE = "60/min").
    An abuse signal: `limit_refused` notes each refusal."""

    setting = ""

    def get_rate(self):
        return getattr(settings, self.setting)


class LikeRateThrottle(SettingRateThrottle):
    scope = "like"
    setting = "LIKE_RATE"


class ShareRateThrottle(SettingRateThrottle):
    scope = "share"
    setting = "SHARE_RATE"


class CommentRateThrottle(SettingRateThrottle):
    scope = "comment"
    setting = "COMMENT_RATE"


class ReportRateThrottle(SettingRateThrottle):
    scope = "report"
    setting = "REPORT_RATE"


class UploadRateThrottle(SettingRateThrottle):
    scope = "upload"
    setting = "UPLOAD_RATE"


class ViewRateThrottle(FailOpenThrottle):
    """Per user, or per address for signed-out visitors. Not an abuse signal: not noted."""

    scope = "view"

    def get_rate(self):
        return settings.VIEW_RATE


def limit_refused(*, request, view) -> None:
    """`API_THROTTLED_HOOK`: `view` answered `request` with a 429. Note the refusal
    (`services.limit_hit_record`) when it was by an abuse limit: users who keep hitting
    limits are flagged in admin, and banned for a while past a higher count.

    A write API has one abuse limit, so the one it names is the one that refused; a
    ViewRateThrottle refusal (not an abuse signal) is not noted.
    """
    for throttle in view.get_throttles():
        if isinstance(throttle, SettingRateThrottle):
            services.limit_hit_record(user=request.user, scope=throttle.scope)


class NotBanned(BasePermission):
    """Banned users may watch, but not like, share, upload or report."""

    def has_permission(self, request, view):
        until = getattr(request.user, "banned_until", None)
        if until is None or until <= timezone.now():
            return True  # `User.banned_until`, kept with the bans by the ban services: no query
        ban = ban_in_force(request.user)
        if ban is None:
            return True
        raise PermissionDenied(ban_said(ban))


def ban_said(ban) -> str:
    """What a banned user is told when they try to write."""
    if ban.until:
        until = timezone.localtime(ban.until).strftime("%Y-%m-%d %H:%M")
        return _("Your account is suspended until %(until)s: %(reason)s You can still watch videos.") % {
            "until": until,
            "reason": ban.reason,
        }
    return _("Your account is suspended: %(reason)s You can still watch videos.") % {"reason": ban.reason}


def ban_message(user_id: int) -> str:
    """`ban_said` for a user known by id (a tap request: `lives.tap_requests`)."""
    ban = bans_in_force().filter(user_id=user_id).order_by("-created").first()
    return ban_said(ban) if ban is not None else _("Your account is suspended. You can still watch videos.")
