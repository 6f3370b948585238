"""Moderation decisions. Each one is a service, so hiding a video from admin, from the
automatic rules or from a test does the same thing: change the state, withdraw what
friends' feeds show live, and append one `ModerationAction` to the audit log.

Each decision has a check, `<service>_check`, which writes nothing and raises
PermissionDenied or ValidationError saying why the decision is refused; the service calls
it first, and admin calls it to offer only what would be allowed. A decision that would
change nothing is not refused: the service answers so (False, None or 0). Who may moderate
at all (the permissions of the "moderators" group) is admin's to check."""

from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from miniapp.accounts.groups import groups_lock, member_counts_update
from miniapp.accounts.models import BANNED_FOR_GOOD, User
from miniapp.accounts.services import user_sessions_end
from miniapp.engagement.comments import comment_remove, sheet_video_gone
from miniapp.engagement.models import Activity, Comment, Like, ShareLink
from miniapp.engagement.services import activities_retract, like_delete
from miniapp.lives.models import Live
from miniapp.lives.services import live_end
from miniapp.moderation.models import Ban, LimitHit, ModerationAction, Report
from miniapp.moderation.roles import moderators_group
from miniapp.moderation.selectors import ban_in_force, bans_in_force, limit_hits_since, open_report_weight
from miniapp.realtime.events import events_batch, send_event_to_everyone_on_commit, send_signout_on_commit
from miniapp.videos.events import video_gone_event
from miniapp.videos.models import Video

Kind = ModerationAction.Kind

STATUS_AFTER = {Kind.HIDE: Video.Status.HIDDEN, Kind.REMOVE: Video.Status.REMOVED, Kind.RESTORE: Video.Status.PUBLISHED}
# Hiding a removed video would undo part of a removal: that is a restore's job.
NO_OP_FROM = {Kind.HIDE: {Video.Status.HIDDEN, Video.Status.REMOVED}, Kind.REMOVE: {Video.Status.REMOVED}}


def _record(
    kind: str,
    *,
    moderator: User | None,
    reason: str,
    video: Video | None = None,
    live: Live | None = None,
    user: User | None = None,
):
    """One row of the audit log, about `video`, `live` or `user` (for a video or a live, its
    author or host is the user)."""
    target = video if video is not None else live
    if target is not None:
        subject, user = target.title, user or (video.author if video is not None else live.host)
    else:
        subject = user.name
    return ModerationAction.objects.create(
        kind=kind,
        moderator=moderator,
        automatic=moderator is None,
        video=video,
        live=live,
        user=user,
        subject=subject[:200],
        reason=reason,
    )


def video_moderate_check(*, kind: str) -> None:
    """ValidationError unless `kind` is a decision on a video: hide, remove or restore, which
    a moderator may take on any video, and the automatic rules too."""
    if kind not in STATUS_AFTER:
        raise ValidationError(_("Not a decision on a video: %(kind)s.") % {"kind": kind})


@transaction.atomic
@events_batch()
def video_moderate(*, video: Video, kind: str, moderator: User | None, reason: str) -> bool:
    """Hide, remove or restore `video`. False, and nothing changes, when it is already so.

    Taking a video down withdraws every like and share of it from friends' feeds (a
    `retract` event each) and tells every open page to drop it (`video_gone`), all in one
    channel-layer message; the feed, the API, share links and its media stop serving it.
    A moderator's decision closes the video's open reports; the automatic hide (moderator
    None) leaves them open for review.
    """
    video_moderate_check(kind=kind)
    video = Video.objects.select_for_update().get(pk=video.pk)
    target = STATUS_AFTER[kind]
    if video.status == target or video.status in NO_OP_FROM.get(kind, ()):
        return False
    Video.objects.filter(pk=video.pk).update(status=target)
    video.status = target
    if target != Video.Status.PUBLISHED:
        activities_retract(Activity.objects.filter(video=video))
        send_event_to_everyone_on_commit(video_gone_event(video))
        sheet_video_gone(video.pk)  # its comment sheets, signed out ones too
    if moderator is not None:
        # The video's own reports; its comments' wait for their own decision.
        Report.objects.filter(video=video, comment=None, status=Report.Status.OPEN).update(
            status=Report.Status.RESOLVED, resolved=timezone.now(), resolved_by=moderator, outcome=kind
        )
    _record(kind, moderator=moderator, reason=reason, video=video)
    return True


def reports_dismiss_check(*, moderator: User | None) -> None:
    """PermissionDenied for the automatic rules (no moderator): they hide a reported video
    pending review, and leave its reports for a moderator to close."""
    if moderator is None:
        raise PermissionDenied(_("Only a moderator dismisses reports."))


@transaction.atomic
def reports_dismiss(*, reports, moderator: User, reason: str) -> int:
    """Close open reports without touching their videos or lives. Returns how many were open."""
    reports_dismiss_check(moderator=moderator)
    open_reports = list(reports.filter(status=Report.Status.OPEN).select_related("video__author", "live__host"))
    Report.objects.filter(pk__in=[r.pk for r in open_reports]).update(
        status=Report.Status.RESOLVED, resolved=timezone.now(), resolved_by=moderator, outcome="dismiss"
    )
    for video in {report.video for report in open_reports if report.video is not None}:
        _record(Kind.DISMISS, moderator=moderator, reason=reason, video=video)
    for live in {report.live for report in open_reports if report.live is not None}:
        _record(Kind.DISMISS, moderator=moderator, reason=reason, live=live)
    return len(open_reports)


def report_create(
    *,
    reporter: User,
    reason: str,
    text: str = "",
    video: Video | None = None,
    post: Activity | None = None,
    live: Live | None = None,
    comment: Comment | None = None,
) -> tuple[Report, bool]:
    """File a report of `video` (the caller checked it is published), of a group's `post` of
    it if given (the caller checked the reporter is in the group), of a `comment` on it, or
    else of `live`. A second open report by the same user on the same video, comment or live is
    the first one again: (report, False). A comment's reports only queue: they never hide its
    video, and a moderator hides the comment (`comment_hide`).

    Enough different users reporting a video (reports weighing REPORT_HIDE_AT, new or
    friendless accounts' less: `open_report_weight`) hides it automatically, pending a
    moderator's review, unless a moderator restored it before. A live's reports only queue:
    ending a live is a moderator's decision (`live_take_down`).
    """
    if comment is not None:
        video = comment.video
        target = {"video": video, "comment": comment}
    elif video is not None:
        target = {"video": video, "comment": None}
    else:
        target = {"live": live}
    try:
        with transaction.atomic():
            report = Report(reporter=reporter, reason=reason, text=text, post=post, **target)
            report.full_clean(validate_constraints=False)
            report.save()
    except IntegrityError:
        return Report.objects.get(reporter=reporter, status=Report.Status.OPEN, **target), False
    if video is None or comment is not None:
        return report, True
    reporters, weight = open_report_weight(video)
    # Once a moderator has restored the video, it is theirs to judge: reports then only queue.
    restored = ModerationAction.objects.filter(video=video, kind=Kind.RESTORE, automatic=False).exists()
    if round(weight, 6) >= settings.REPORT_HIDE_AT and not restored:
        video_moderate(
            video=video,
            kind=Kind.HIDE,
            moderator=None,
            reason=f"Reported by {reporters} users (weight {weight:g}): hidden until a moderator reviews it.",
        )
    return report, True


@transaction.atomic
def comment_hide(*, comment: Comment, moderator: User, reason: str) -> bool:
    """Hide a comment (with its replies) on a moderator's decision: off every open sheet and out
    of 好友动态, one row in the audit log. Its open reports are resolved either way; False when
    it was gone already (its author deleted it, say), and nothing else changes."""
    hidden = comment_remove(comment=comment, status=Comment.Status.HIDDEN) > 0
    Report.objects.filter(comment=comment, status=Report.Status.OPEN).update(
        status=Report.Status.RESOLVED, resolved=timezone.now(), resolved_by=moderator, outcome=Kind.HIDE_COMMENT
    )
    if hidden:
        _record(Kind.HIDE_COMMENT, moderator=moderator, reason=reason, video=comment.video, user=comment.author)
    return hidden


def live_take_down_check(*, moderator: User | None) -> None:
    """PermissionDenied for the automatic rules (no moderator): a live's reports queue for a
    moderator, who ends it if it must end."""
    if moderator is None:
        raise PermissionDenied(_("Only a moderator ends a live."))


@transaction.atomic
def live_take_down(*, live: Live, moderator: User, reason: str) -> bool:
    """End `live` for breaking the rules. False, and nothing changes, when it has ended already.

    It ends as its host's end does (`live_end`: viewers' players reach the end of the
    stream within a tick, the room says it is over), with `reason` as what the room shows
    (its first 200 characters), and with no replay: a clip live gets none, a camera live's
    recording is not made into one. Its open reports are closed, and the audit log keeps
    the decision with the whole reason.
    """
    live_take_down_check(moderator=moderator)
    live = Live.objects.select_for_update(of=("self",)).select_related("host").get(pk=live.pk)
    if live.status == Live.Status.ENDED:
        return False
    live_end(live=live, reason=reason, replay=False)
    Report.objects.filter(live=live, status=Report.Status.OPEN).update(
        status=Report.Status.RESOLVED, resolved=timezone.now(), resolved_by=moderator, outcome=Kind.END_LIVE
    )
    _record(Kind.END_LIVE, moderator=moderator, reason=reason, live=live)
    return True


def user_ban_check(*, user: User, moderator: User | None) -> None:
    """PermissionDenied, saying why, unless `moderator` may ban `user` or lift their ban:
    nobody bans or unbans themselves, and only superusers ban or unban staff. The automatic
    rules (no moderator) are not refused; they leave staff alone (`user_ban`)."""
    if moderator is None:
        return
    if moderator.pk == user.pk:
        raise PermissionDenied(_("You cannot ban or unban yourself."))
    if user.is_staff and not moderator.is_superuser:
        raise PermissionDenied(_("Only a superuser can ban or unban staff (%(name)s).") % {"name": user.name})


@transaction.atomic
def user_ban(*, user: User, moderator: User | None, reason: str, until: datetime | None = None) -> Ban | None:
    """Ban `user` (None: they are banned already, or staff and the rules are automatic).

    Their likes and shares are withdrawn from friends' feeds at once, their lives end, and
    they are signed out everywhere (their open sockets close); signed in again, they may
    watch but not write.
    """
    if moderator is None and user.is_staff:
        return None
    user_ban_check(user=user, moderator=moderator)
    if ban_in_force(user) is not None:
        return None
    ban = Ban.objects.create(user=user, reason=reason, until=until, created_by=moderator)
    _banned_until_set(user, until or BANNED_FOR_GOOD)
    activities_retract(Activity.objects.filter(actor=user))
    for live in Live.objects.filter(host=user).exclude(status=Live.Status.ENDED):
        live_end(live=live, reason=_("The host's account was suspended."), replay=False)
    user_sessions_end(user=user)
    until_text = f" Until {timezone.localtime(until):%Y-%m-%d %H:%M}." if until else ""
    _record(Kind.BAN, moderator=moderator, reason=reason + until_text, user=user)
    return ban


def _banned_until_set(user: User, until: datetime | None) -> None:
    """Keep `User.banned_until`, which the apps below moderation read, with the bans."""
    User.objects.filter(pk=user.pk).update(banned_until=until)
    user.banned_until = until


@transaction.atomic
def user_unban(*, user: User, moderator: User, reason: str) -> bool:
    """Lift the bans in force on `user`. False when there was none."""
    user_ban_check(user=user, moderator=moderator)
    lifted = bans_in_force().filter(user=user).update(lifted=timezone.now(), lifted_by=moderator)
    if not lifted:
        return False
    _banned_until_set(user, None)
    _record(Kind.UNBAN, moderator=moderator, reason=reason, user=user)
    return True


def user_delete_check(*, user: User, moderator: User) -> None:
    """PermissionDenied, saying why, unless `moderator` may delete `user`: nobody deletes
    themselves, and only superusers delete staff."""
    if moderator.pk == user.pk:
        raise PermissionDenied(_("You cannot delete your own account here."))
    if (user.is_staff or user.is_superuser) and not moderator.is_superuser:
        raise PermissionDenied(_("Only a superuser can delete staff (%(name)s).") % {"name": user.name})


@transaction.atomic
@events_batch()
def user_delete(*, user: User, moderator: User, reason: str) -> None:
    """Delete `user` and what is theirs, undone as the services undo each part.

    A plain delete cascades past the services: the videos they liked would keep their
    likes in the count and the hot score, the videos they shared would keep the shares
    in theirs, and friends' open feeds would show their entries (and others' likes of
    their videos) until reloaded. Here each like is taken back (`like_delete`), each of
    their videos not yet removed is removed (`video_moderate`: retracts, `video_gone` to
    every open page, an audit row), their shares come off the counts, the rest of their
    entries is retracted, and one audit row, which keeps their name, records the deletion.
    Their videos' files go once the deletion has committed, and their open sockets close.
    A statement or so per like, in one transaction: a staff action, not a hot path.
    """
    user_delete_check(user=user, moderator=moderator)
    # Others' likes of their videos first, then the videos: the order an unlike takes its
    # locks in (`like_delete`), so that one running now waits instead of deadlocking.
    list(Like.objects.filter(video__author=user).select_for_update())
    for like in Like.objects.filter(user=user).select_related("video"):
        like_delete(user=user, video=like.video)
    videos = list(Video.objects.filter(author=user))
    for video in videos:
        if video.status != Video.Status.REMOVED:
            video_moderate(video=video, kind=Kind.REMOVE, moderator=moderator, reason=reason)
    shares = ShareLink.objects.filter(sharer=user).values("video").annotate(count=Count("id"))
    for row in shares:
        Video.objects.filter(pk=row["video"]).update(share_count=Greatest(F("share_count") - row["count"], 0))
    # Their comments go as a deletion would take them: the counts of others' videos come down, the
    # replies under them go too (withdrawn from 好友动态), open sheets drop them.
    for comment in Comment.objects.filter(author=user, status=Comment.Status.VISIBLE):
        comment_remove(comment=comment)
    activities_retract(Activity.objects.filter(actor=user))
    _record(Kind.DELETE, moderator=moderator, reason=reason, user=user)
    send_signout_on_commit(user_id=user.pk)  # their sessions end with the user
    groups = list(user.memberships.values_list("group_id", flat=True))
    groups_lock(groups)
    user.delete()
    member_counts_update(groups)  # they leave their groups with the account
    files = [field for video in videos for field in video.stored_files()]
    transaction.on_commit(lambda: [field.storage.delete(field.name) for field in files], robust=True)


def limit_hit_record(*, user: User, scope: str) -> None:
    """Note that `user` ran into a rate limit (at most once a minute per limit).

    Hitting limits ABUSE_FLAG_HITS times within ABUSE_WINDOW_HOURS flags the user in admin;
    ABUSE_BAN_HITS times bans them for ABUSE_BAN_HOURS (never staff).
    """
    if not user.is_authenticated or not cache.add(f"limit-hit:{user.pk}:{scope}", 1, timeout=60):
        return
    LimitHit.objects.create(user=user, scope=scope)
    hits = limit_hits_since(user)
    window = settings.ABUSE_WINDOW_HOURS
    if hits == settings.ABUSE_FLAG_HITS:
        _record(Kind.FLAG, moderator=None, reason=f"Hit rate limits {hits} times in {window} h.", user=user)
    if hits >= settings.ABUSE_BAN_HITS:
        user_ban(
            user=user,
            moderator=None,
            reason=f"Hit rate limits {hits} times in {window} h.",
            until=timezone.now() + timedelta(hours=settings.ABUSE_BAN_HOURS),
        )


@transaction.atomic
def moderator_make(*, user: User) -> None:
    """Make `user` a moderator: staff (admin access) in the "moderators" group (the rights to moderate)."""
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.groups.add(moderators_group())
