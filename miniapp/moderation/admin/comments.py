"""Comments on videos in admin, the newest first: a moderator hides them (`services.comment_hide`,
as from the report queue): gone from every open sheet at once, with their replies, out of
friends' 好友动态, their reports resolved, a row in the audit log. Comments in live rooms are in
`lives`."""

from django.contrib import admin
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from miniapp.engagement.models import Comment
from miniapp.moderation import services
from miniapp.moderation.admin.records import ReadOnlyAdmin


@admin.register(Comment)
class VideoCommentAdmin(ReadOnlyAdmin):
    list_display = ["text", "author", "video", "parent", "pinned", "status", "created"]
    list_filter = ["status", "pinned", ("created", admin.DateFieldListFilter)]
    list_select_related = ["author", "video", "parent"]
    search_fields = ["text", "author__username", "author__display_name", "video__title"]
    ordering = ["-id"]
    actions = ["hide_comments"]
    readonly_fields = ["video", "author", "parent", "reply_to", "text", "pinned", "status", "created"]

    # Those who may hide videos may see and hide their comments; nobody edits or deletes one.
    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("moderation.moderate_video")

    def has_module_permission(self, request):
        return request.user.has_perm("moderation.moderate_video")

    def has_hide_permission(self, request):
        return request.user.has_perm("moderation.moderate_video")

    @admin.action(description=gettext_lazy("Hide the selected comments"), permissions=["hide"])
    def hide_comments(self, request, queryset):
        hidden = sum(
            services.comment_hide(comment=comment, moderator=request.user, reason=_("Hidden from the comments list."))
            for comment in queryset.filter(status=Comment.Status.VISIBLE).select_related("video", "author")
        )
        self.message_user(request, gettext_lazy("Comments hidden: %(count)d.") % {"count": hidden})
