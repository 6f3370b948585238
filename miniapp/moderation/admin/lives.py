"""Lives in admin: status, host, source, when, likes and viewers, open reports; end one with a
reason. Their comments: remove them (gone from every screen in the room).

Here and not in `lives/admin.py`: ending a live for breaking the rules is a moderation
decision (`services.live_take_down`, through `decide` like every other one), and lives sit
below moderation."""

from django.contrib import admin
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy

from miniapp.lives import comments
from miniapp.lives.models import Comment, Live
from miniapp.lives.room import viewers_subquery
from miniapp.moderation.admin.decide import decide
from miniapp.moderation.admin.records import ReadOnlyAdmin
from miniapp.moderation.admin.videos import OpenReportInline, ReportedFilter, history_link
from miniapp.moderation.decisions import Decision
from miniapp.moderation.models import ModerationAction, Report

Kind = ModerationAction.Kind
OPEN = Q(reports__status=Report.Status.OPEN)


@admin.register(Live)
class LiveAdmin(admin.ModelAdmin):
    list_display = ["title", "host", "status", "source", "started", "ended", "likes", "viewers", "open_reports"]
    list_filter = ["status", "source", ReportedFilter, ("started", admin.DateFieldListFilter)]
    list_select_related = ["host"]
    search_fields = ["title", "host__username", "host__display_name"]
    raw_id_fields = ["host", "clip", "replay"]
    ordering = ["-created"]
    readonly_fields = [
        "key",
        "status",
        "started",
        "ended",
        "end_reason",
        "runner",
        "runner_beat",
        "likes",
        "created",
        "page",
        "moderation_history",
    ]
    inlines = [OpenReportInline]
    actions = ["end_lives"]
    change_form_template = "moderation/admin/live_change_form.html"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(open_reports=Count("reports", filter=OPEN), viewers=viewers_subquery())
        )

    def has_add_permission(self, request):
        return False  # lives are announced by their hosts, through the app

    def has_delete_permission(self, request, obj=None):
        return False  # ending is the moderation decision; a delete would skip the services

    def has_end_permission(self, request):
        return request.user.has_perm("moderation.end_live")

    @admin.display(description=gettext_lazy("open reports"), ordering="open_reports")
    def open_reports(self, live):
        return live.open_reports

    @admin.display(description=gettext_lazy("viewers"))
    def viewers(self, live):
        return live.viewers

    @admin.display(description=gettext_lazy("page"))
    def page(self, live):
        url = reverse("live", args=[live.pk])
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, url)

    @admin.display(description=gettext_lazy("moderation history"))
    def moderation_history(self, live):
        return history_link(live=live.pk)

    @admin.action(description=gettext_lazy("End the selected lives, with a reason"), permissions=["end"])
    def end_lives(self, request, queryset):
        decision = Decision(kind=Kind.END_LIVE, targets=tuple(queryset), moderator=request.user)
        cancel_url = reverse("admin:lives_live_changelist")
        return decide(self, request, decision, cancel_url=cancel_url, selected=queryset)

    def get_urls(self):
        decide_one = self.admin_site.admin_view(self.end_one)
        return [path("<int:live_id>/end/", decide_one, name="lives_live_end"), *super().get_urls()]

    def end_one(self, request, live_id: int):
        """The End button of a live's page."""
        if not self.has_end_permission(request):
            return redirect("admin:lives_live_change", live_id)
        live = get_object_or_404(Live.objects.select_related("host"), pk=live_id)
        decision = Decision(kind=Kind.END_LIVE, targets=(live,), moderator=request.user)
        page = reverse("admin:lives_live_change", args=[live_id])
        return decide(self, request, decision, cancel_url=page) or redirect(page)

    def render_change_form(self, request, context, *args, obj=None, **kwargs):
        context["can_end"] = obj is not None and obj.status != Live.Status.ENDED and self.has_end_permission(request)
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)


@admin.register(Comment)
class CommentAdmin(ReadOnlyAdmin):
    """Comments in live rooms, the newest first; a moderator removes them (as the host can from
    the room): `lives.comments.comment_remove` takes each off every screen at once."""

    list_display = ["text", "user", "live", "created", "removed"]
    list_filter = ["removed", ("created", admin.DateFieldListFilter)]
    list_select_related = ["user", "live"]
    search_fields = ["text", "user__username", "user__display_name", "live__title"]
    ordering = ["-id"]
    actions = ["remove_comments"]

    # Those who may end lives may see and remove their comments; nobody edits or deletes one.
    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("moderation.end_live")

    def has_module_permission(self, request):
        return request.user.has_perm("moderation.end_live") or super().has_module_permission(request)

    def has_remove_permission(self, request):
        return request.user.has_perm("moderation.end_live")

    @admin.action(description=gettext_lazy("Remove the selected comments"), permissions=["remove"])
    def remove_comments(self, request, queryset):
        chosen = list(queryset.filter(removed=False))
        for comment in chosen:
            comments.comment_remove(comment=comment)
        self.message_user(request, gettext_lazy("Comments removed: %(count)d.") % {"count": len(chosen)})
