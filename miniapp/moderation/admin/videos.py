"""Videos in admin: poster, author, status, counts, open reports; hide / restore / remove."""

from django.contrib import admin
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from miniapp.moderation.admin.decide import decide
from miniapp.moderation.decisions import VIDEO_KINDS, Decision
from miniapp.moderation.models import ModerationAction, Report
from miniapp.videos.models import Video

Kind = ModerationAction.Kind
OPEN = Q(reports__status=Report.Status.OPEN, reports__comment=None)  # of the video, not of a comment on it


class ReportedFilter(admin.SimpleListFilter):
    title = gettext_lazy("reports")
    parameter_name = "reported"

    def lookups(self, request, model_admin):
        return [("open", _("With open reports")), ("any", _("Ever reported"))]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(open_reports__gt=0)
        if self.value() == "any":
            return queryset.filter(reports__isnull=False).distinct()
        return queryset


class OpenReportInline(admin.TabularInline):
    model = Report
    verbose_name_plural = gettext_lazy("Open reports")
    fields = ["created", "reason", "text", "reporter"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).filter(status=Report.Status.OPEN).select_related("reporter")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def poster(video: Video, size: int = 45):
    return format_html(
        '<img class="moderation-poster" src="{}" width="{}" height="{}" alt="" loading="lazy">',
        video.page_poster.url,
        size,
        size * 16 // 9,
    )


def history_link(**lookup):
    """A link to the audit log filtered to one video or user."""
    ((field, value),) = lookup.items()
    url = reverse("admin:moderation_moderationaction_changelist") + f"?{field}__id__exact={value}"
    count = ModerationAction.objects.filter(**{f"{field}_id": value}).count()
    return format_html('<a href="{}">{}</a>', url, _("%(count)d decisions in the audit log") % {"count": count})


@admin.register(Video)
class VideoAdmin(admin.ModelAdmin):
    list_display = ["thumbnail", "title", "author", "status", "like_count", "share_count", "open_reports", "created"]
    list_display_links = ["thumbnail", "title"]
    list_filter = ["status", ReportedFilter, ("created", admin.DateFieldListFilter)]
    search_fields = ["title", "description", "author__username", "author__display_name"]
    list_select_related = ["author"]
    raw_id_fields = ["author"]
    ordering = ["-created"]
    date_hierarchy = "created"
    fields = [
        "preview",
        "title",
        "description",
        "author",
        "status",
        "like_count",
        "share_count",
        "duration",
        "created",
        "page",
        "moderation_history",
    ]
    readonly_fields = fields
    inlines = [OpenReportInline]
    actions = ["hide", "restore", "remove"]
    change_form_template = "moderation/admin/video_change_form.html"

    class Media:
        css = {"all": ["moderation/admin.css"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(open_reports=Count("reports", filter=OPEN))

    def has_add_permission(self, request):
        return False  # videos come in through the app's upload

    def has_delete_permission(self, request, obj=None):
        return False  # "remove" is the moderation decision; a delete would skip the services

    def has_moderate_permission(self, request):
        return request.user.has_perm("moderation.moderate_video")

    @admin.display(description=gettext_lazy("poster"))
    def thumbnail(self, video):
        return poster(video)

    @admin.display(description=gettext_lazy("poster"))
    def preview(self, video):
        return poster(video, size=180)

    @admin.display(description=gettext_lazy("open reports"), ordering="open_reports")
    def open_reports(self, video):
        return video.open_reports

    @admin.display(description=gettext_lazy("page"))
    def page(self, video):
        url = reverse("video-detail", args=[video.pk])
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, url)

    @admin.display(description=gettext_lazy("moderation history"))
    def moderation_history(self, video):
        return history_link(video=video.pk)

    def _decide(self, request, queryset, kind):
        decision = Decision(kind=kind, targets=tuple(queryset), moderator=request.user)
        cancel_url = reverse("admin:videos_video_changelist")
        return decide(self, request, decision, cancel_url=cancel_url, selected=queryset)

    @admin.action(description=gettext_lazy("Hide the selected videos"), permissions=["moderate"])
    def hide(self, request, queryset):
        return self._decide(request, queryset, Kind.HIDE)

    @admin.action(description=gettext_lazy("Restore the selected videos"), permissions=["moderate"])
    def restore(self, request, queryset):
        return self._decide(request, queryset, Kind.RESTORE)

    @admin.action(description=gettext_lazy("Remove the selected videos"), permissions=["moderate"])
    def remove(self, request, queryset):
        return self._decide(request, queryset, Kind.REMOVE)

    def get_urls(self):
        decide_one = self.admin_site.admin_view(self.decide_one)
        return [path("<int:video_id>/decide/<str:kind>/", decide_one, name="videos_video_decide"), *super().get_urls()]

    def decide_one(self, request, video_id: int, kind: str):
        """The Hide / Restore / Remove buttons of a video's page."""
        if kind not in VIDEO_KINDS or not self.has_moderate_permission(request):
            return redirect("admin:videos_video_change", video_id)
        video = get_object_or_404(Video, pk=video_id)
        decision = Decision(kind=kind, targets=(video,), moderator=request.user)
        page = reverse("admin:videos_video_change", args=[video_id])
        return decide(self, request, decision, cancel_url=page) or redirect(page)

    def render_change_form(self, request, context, *args, **kwargs):
        context["can_moderate"] = self.has_moderate_permission(request)
        return super().render_change_form(request, context, *args, **kwargs)
