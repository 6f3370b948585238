"""Moderation in Django admin: the report queue, the audit log and bans here; videos, users
and lives in `videos`, `users` and `lives` beside it. Every decision goes through `decide`."""

from django.contrib import admin
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from miniapp.lives.models import Live
from miniapp.moderation import services
from miniapp.moderation.admin.decide import decide
from miniapp.moderation.decisions import Decision
from miniapp.moderation.models import Ban, LimitHit, ModerationAction, Report
from miniapp.videos.models import Video

Kind = ModerationAction.Kind


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records, not editable: they are written by the services alone."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class LiveOrVideoFilter(admin.SimpleListFilter):
    title = gettext_lazy("video or live")
    parameter_name = "of"

    def lookups(self, request, model_admin):
        return [("video", _("Videos")), ("live", _("Lives"))]

    def queryset(self, request, queryset):
        if self.value() in ("video", "live"):
            return queryset.filter(**{f"{self.value()}__isnull": False})
        return queryset


@admin.register(Report)
class ReportAdmin(ReadOnlyAdmin):
    """The report queue: open reports first, newest first, with how many each video or live has."""

    list_display = ["created", "reported", "reason", "short_text", "reporter", "status", "target_open_reports"]
    list_filter = ["status", "reason", LiveOrVideoFilter, ("created", admin.DateFieldListFilter)]
    search_fields = [
        "text",
        "video__title",
        "live__title",
        "comment__text",
        "reporter__username",
        "reporter__display_name",
    ]
    list_select_related = ["video", "live", "comment__author", "reporter"]
    raw_id_fields = ["video", "live", "comment", "reporter", "resolved_by"]
    ordering = ["status", "-created"]  # "open" < "resolved": open ones first, newest first
    date_hierarchy = "created"
    fields = [
        "reported",
        "group_post",
        "reported_comment",
        "reason",
        "text",
        "reporter",
        "created",
        "status",
        "resolved",
        "resolved_by",
        "outcome",
    ]
    readonly_fields = fields
    actions = ["dismiss", "hide_comments", "hide_videos", "remove_videos", "end_lives"]

    def get_queryset(self, request):
        def open_for(field):
            return (
                Report.objects.filter(**{field: OuterRef(field)}, comment=None, status=Report.Status.OPEN)
                .values(field)
                .annotate(n=Count("pk"))
                .values("n")
            )

        # A report is of a video or of a live: one of the two counts is of nothing (0).
        count = Coalesce(Subquery(open_for("video")), 0) + Coalesce(Subquery(open_for("live")), 0)
        return super().get_queryset(request).annotate(target_open=count)

    def has_resolve_permission(self, request):
        return request.user.has_perm("moderation.resolve_report")

    def has_moderate_permission(self, request):
        return request.user.has_perm("moderation.moderate_video")

    def has_end_permission(self, request):
        return request.user.has_perm("moderation.end_live")

    @admin.display(description=gettext_lazy("video or live"), ordering="video__title")
    def reported(self, report):
        if report.live_id:
            url, target = reverse("admin:lives_live_change", args=[report.live_id]), report.live
            label = _("live: %(title)s") % {"title": target.title}
        else:
            url, target = reverse("admin:videos_video_change", args=[report.video_id]), report.video
            label = target.title
            if report.comment_id:  # a comment on the video: its text first
                label = _("comment “%(text)s” on %(title)s") % {
                    "text": Truncator(report.comment.text).chars(40),
                    "title": target.title,
                }
        return format_html(
            '<a href="{}">{}</a> <span class="quiet">({})</span>', url, label, target.get_status_display()
        )

    @admin.display(description=gettext_lazy("group post"))
    def group_post(self, report):
        """A report of a post in a group: the group, who posted it and the note they wrote with it."""
        post = report.post
        if post is None:
            return "—"
        return format_html("{} · {}: {}", post.group.name if post.group else "—", post.actor.name, post.note or "—")

    @admin.display(description=gettext_lazy("comment"))
    def reported_comment(self, report):
        """A report of a comment: who wrote it, what it says and whether it still shows."""
        comment = report.comment
        if comment is None:
            return "—"
        return format_html("{}: {} ({})", comment.author.name, comment.text, comment.get_status_display())

    @admin.display(description=gettext_lazy("details"))
    def short_text(self, report):
        return Truncator(report.text).chars(60)

    @admin.display(description=gettext_lazy("open reports of the video or live"), ordering="target_open")
    def target_open_reports(self, report):
        return report.target_open

    @admin.action(
        description=gettext_lazy("Dismiss the selected reports (the videos stay up)"), permissions=["resolve"]
    )
    def dismiss(self, request, queryset):
        return self._decide(request, queryset, Kind.DISMISS, targets=queryset)

    @admin.action(description=gettext_lazy("Hide the reported comments"), permissions=["moderate"])
    def hide_comments(self, request, queryset):
        """Hide the comments the selected reports are about (their videos stay up), each with the
        first report's reason in the audit log."""
        hidden = 0
        for report in queryset.filter(comment__isnull=False).select_related("comment__video", "comment__author"):
            reason = _("Reported: %(reason)s") % {"reason": report.get_reason_display()}
            hidden += services.comment_hide(comment=report.comment, moderator=request.user, reason=reason)
        self.message_user(request, _("Comments hidden: %(count)d.") % {"count": hidden})

    @admin.action(description=gettext_lazy("Hide the reported videos"), permissions=["moderate"])
    def hide_videos(self, request, queryset):
        videos = Video.objects.filter(pk__in=queryset.filter(comment=None).values("video"))  # not a comment's
        return self._decide(request, queryset, Kind.HIDE, targets=videos)

    @admin.action(description=gettext_lazy("Remove the reported videos"), permissions=["moderate"])
    def remove_videos(self, request, queryset):
        videos = Video.objects.filter(pk__in=queryset.filter(comment=None).values("video"))
        return self._decide(request, queryset, Kind.REMOVE, targets=videos)

    @admin.action(description=gettext_lazy("End the reported lives"), permissions=["end"])
    def end_lives(self, request, queryset):
        lives = Live.objects.filter(pk__in=queryset.values("live")).select_related("host")
        return self._decide(request, queryset, Kind.END_LIVE, targets=lives)

    def _decide(self, request, queryset, kind, *, targets):
        decision = Decision(kind=kind, targets=tuple(targets), moderator=request.user)
        cancel_url = reverse("admin:moderation_report_changelist")
        return decide(self, request, decision, cancel_url=cancel_url, selected=queryset)


@admin.register(ModerationAction)
class ModerationActionAdmin(ReadOnlyAdmin):
    """The audit log: append-only, read-only for everyone (superusers included)."""

    list_display = ["created", "kind", "target", "decided_by", "reason"]
    list_filter = ["kind", "automatic", ("created", admin.DateFieldListFilter)]
    search_fields = ["subject", "reason", "moderator__username", "moderator__display_name"]
    list_select_related = ["moderator", "video", "user", "live"]
    raw_id_fields = ["moderator", "video", "user", "live"]
    ordering = ["-created"]
    date_hierarchy = "created"

    def lookup_allowed(self, lookup, value, request=None):
        # The "audit log" links of a video's, a user's and a live's page filter by them.
        allowed = ("video__id__exact", "user__id__exact", "live__id__exact")
        return lookup in allowed or super().lookup_allowed(lookup, value, request)

    @admin.display(description=gettext_lazy("about"))
    def target(self, action):
        if action.video_id:
            return format_html(
                '<a href="{}">{}</a>', reverse("admin:videos_video_change", args=[action.video_id]), action.subject
            )
        if action.live_id:
            return format_html(
                '<a href="{}">{}</a>', reverse("admin:lives_live_change", args=[action.live_id]), action.subject
            )
        if action.user_id:
            return format_html(
                '<a href="{}">{}</a>', reverse("admin:accounts_user_change", args=[action.user_id]), action.subject
            )
        return action.subject

    @admin.display(description=gettext_lazy("by"), ordering="moderator")
    def decided_by(self, action):
        return _("automatic rules") if action.automatic else (action.moderator.name if action.moderator else "-")


@admin.register(Ban)
class BanAdmin(ReadOnlyAdmin):
    list_display = ["user", "created", "until", "lifted", "created_by", "reason"]
    list_filter = [("created", admin.DateFieldListFilter), ("lifted", admin.EmptyFieldListFilter)]
    search_fields = ["user__username", "user__display_name", "reason"]
    list_select_related = ["user", "created_by"]
    raw_id_fields = ["user", "created_by", "lifted_by"]
    ordering = ["-created"]


@admin.register(LimitHit)
class LimitHitAdmin(ReadOnlyAdmin):
    list_display = ["user", "scope", "created"]
    list_filter = ["scope", ("created", admin.DateFieldListFilter)]
    search_fields = ["user__username", "user__display_name"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    ordering = ["-created"]
