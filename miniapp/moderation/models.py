from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

REPORT_TEXT_MAX = 500


class Report(models.Model):
    """A user's report of a video (or of a group's post of one, or of a comment on one), or of a
    live room: exactly one of `video` and `live`. One open report per user and video, per user
    and comment, or per user and live."""

    class Reason(models.TextChoices):
        SPAM = "spam", _("Spam or ads")
        SEXUAL = "sexual", _("Sexual content")
        VIOLENCE = "violence", _("Violence or gore")
        HARASSMENT = "harassment", _("Harassment or hate")
        MISINFORMATION = "misinformation", _("False information")
        ILLEGAL = "illegal", _("Illegal content")
        COPYRIGHT = "copyright", _("Copyright infringement")
        OTHER = "other", _("Something else")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        RESOLVED = "resolved", _("Resolved")

    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reports", verbose_name=_("reporter")
    )
    video = models.ForeignKey(
        "videos.Video", null=True, blank=True, on_delete=models.CASCADE, related_name="reports", verbose_name=_("video")
    )
    live = models.ForeignKey(
        "lives.Live", null=True, blank=True, on_delete=models.CASCADE, related_name="reports", verbose_name=_("live")
    )
    # A report of a group's post: of its video, with the post (its note, its group) to judge too.
    post = models.ForeignKey(
        "engagement.Activity",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("group post"),
    )
    # A report of a comment: of the comment (its video is `video`), which a moderator may hide.
    comment = models.ForeignKey(
        "engagement.Comment",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="reports",
        verbose_name=_("comment"),
    )
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    text = models.TextField(_("details"), max_length=REPORT_TEXT_MAX, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    created = models.DateTimeField(_("reported"), default=timezone.now)
    resolved = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What was decided: "hide", "remove", "restore" (the video stays up), "end_live" or "dismiss".
    outcome = models.CharField(_("outcome"), max_length=10, blank=True)

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        constraints = [
            models.UniqueConstraint(
                fields=["reporter", "video"],
                condition=Q(status="open", comment__isnull=True),
                name="report_one_open_per_user",
            ),
            models.UniqueConstraint(
                fields=["reporter", "comment"],
                condition=Q(status="open", comment__isnull=False),
                name="report_one_open_per_user_comment",
            ),
            models.UniqueConstraint(
                fields=["reporter", "live"], condition=Q(status="open"), name="report_one_open_per_user_live"
            ),
            models.CheckConstraint(
                condition=Q(video__isnull=False, live__isnull=True) | Q(video__isnull=True, live__isnull=False),
                name="report_of_a_video_or_a_live",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-created"], name="report_queue"),
            models.Index(fields=["video", "status"], name="report_video"),
            models.Index(fields=["live", "status"], name="report_live"),
        ]

    def __str__(self) -> str:
        target = f"video {self.video_id}" if self.video_id else f"live {self.live_id}"
        return f"{self.get_reason_display()} · {target}"


class Ban(models.Model):
    """A user may watch but not like, share, upload or report while a ban is in force."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bans", verbose_name=_("user")
    )
    reason = models.TextField(_("reason"))
    until = models.DateTimeField(_("until"), null=True, blank=True, help_text=_("Empty: until lifted."))
    created = models.DateTimeField(_("banned"), default=timezone.now)
    # Null for a ban the automatic rules gave.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lifted = models.DateTimeField(_("lifted"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("ban")
        verbose_name_plural = _("bans")
        indexes = [models.Index(fields=["user", "lifted"], name="ban_user")]

    def __str__(self) -> str:
        return f"{self.user_id} banned {self.created:%Y-%m-%d}"


class LimitHit(models.Model):
    """A request refused by a rate limit; users who hit limits again and again are flagged."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="limit_hits")
    scope = models.CharField(max_length=20)  # like, share, report, upload
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["user", "created"], name="limit_hit_user")]
        verbose_name = _("rate limit hit")
        verbose_name_plural = _("rate limit hits")

    def __str__(self) -> str:
        return f"{self.user_id} hit {self.scope}"


class ModerationAction(models.Model):
    """One moderation decision, manual or automatic. Append-only: never changed or deleted."""

    class Kind(models.TextChoices):
        HIDE = "hide", _("Hide video")
        REMOVE = "remove", _("Remove video")
        RESTORE = "restore", _("Restore video")
        BAN = "ban", _("Ban user")
        UNBAN = "unban", _("Lift ban")
        DISMISS = "dismiss", _("Dismiss reports")
        FLAG = "flag", _("Flag user")
        DELETE = "delete", _("Delete user")
        END_LIVE = "end_live", _("End live")
        HIDE_COMMENT = "hide_cmt", _("Hide comment")

    kind = models.CharField(_("action"), max_length=10, choices=Kind.choices)
    # Null when the automatic rules decided.
    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("moderator"),
    )
    automatic = models.BooleanField(_("automatic"), default=False)
    video = models.ForeignKey(
        "videos.Video",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="moderation_actions",
        verbose_name=_("video"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="moderation_actions",
        verbose_name=_("user"),
    )
    live = models.ForeignKey(
        "lives.Live",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="moderation_actions",
        verbose_name=_("live"),
    )
    # What the target was called at the time, kept if it is deleted later.
    subject = models.CharField(_("subject"), max_length=200)
    reason = models.TextField(_("reason"))
    created = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("moderation action")
        verbose_name_plural = _("moderation actions")
        default_permissions = ("view",)  # nobody adds, changes or deletes audit rows by hand
        permissions = [
            ("moderate_video", _("Can hide, restore and remove videos")),
            ("ban_user", _("Can ban and unban users")),
            ("resolve_report", _("Can resolve reports")),
            ("end_live", _("Can end lives")),
        ]
        indexes = [
            models.Index(fields=["video", "-created"], name="action_video"),
            models.Index(fields=["user", "-created"], name="action_user"),
            models.Index(fields=["live", "-created"], name="action_live"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.subject}"
