"""Users in admin: bans (with a reason and an optional end), flags for users who keep
hitting rate limits, and links to their moderation history."""

from datetime import timedelta

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Q
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from miniapp.accounts.models import User
from miniapp.moderation import services
from miniapp.moderation.admin.decide import decide
from miniapp.moderation.admin.videos import history_link
from miniapp.moderation.decisions import Decision
from miniapp.moderation.models import Ban, ModerationAction
from miniapp.moderation.selectors import bans_in_force

Kind = ModerationAction.Kind


def _recent_hits() -> Q:
    return Q(limit_hits__created__gte=timezone.now() - timedelta(hours=settings.ABUSE_WINDOW_HOURS))


class BannedFilter(admin.SimpleListFilter):
    title = gettext_lazy("ban")
    parameter_name = "banned"

    def lookups(self, request, model_admin):
        return [("yes", _("Banned now")), ("no", _("Not banned"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(banned=self.value() == "yes")
        return queryset


class FlaggedFilter(admin.SimpleListFilter):
    title = gettext_lazy("rate limits")
    parameter_name = "flagged"

    def lookups(self, request, model_admin):
        return [("yes", _("Flagged: hit limits %(count)d+ times") % {"count": settings.ABUSE_FLAG_HITS})]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(recent_hits__gte=settings.ABUSE_FLAG_HITS)
        return queryset


class BanInline(admin.TabularInline):
    model = Ban
    fk_name = "user"
    fields = ["created", "reason", "until", "created_by", "lifted", "lifted_by"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(User)
class ModeratedUserAdmin(UserAdmin):
    """The one admin for users: Django's, with the app's profile fields, bans, rate-limit flags
    and each user's moderation history."""

    list_display = ["username", "display_name", "is_staff", "is_active", "date_joined", "last_login"]
    list_display += ["banned", "recent_hits"]
    search_fields = ["username", "display_name"]
    list_filter = [*UserAdmin.list_filter, BannedFilter, FlaggedFilter]
    readonly_fields = ["moderation_history"]
    fieldsets = UserAdmin.fieldsets + (
        ("miniapp", {"fields": ["display_name", "avatar_url"]}),
        (gettext_lazy("Moderation"), {"fields": ["moderation_history"]}),
    )
    inlines = [BanInline]
    actions = ["ban", "unban"]
    change_form_template = "moderation/admin/user_change_form.html"

    def get_queryset(self, request):
        in_force = bans_in_force().filter(user=OuterRef("pk"))
        return (
            super()
            .get_queryset(request)
            .annotate(banned=Exists(in_force), recent_hits=Count("limit_hits", filter=_recent_hits()))
        )

    def has_ban_permission(self, request):
        return request.user.has_perm("moderation.ban_user")

    @admin.display(description=gettext_lazy("banned"), boolean=True, ordering="banned")
    def banned(self, user):
        return user.banned

    @admin.display(description=gettext_lazy("limit hits"), ordering="recent_hits")
    def recent_hits(self, user):
        return user.recent_hits

    @admin.display(description=gettext_lazy("moderation history"))
    def moderation_history(self, user):
        return history_link(user=user.pk) if user.pk else "-"

    def _decide(self, request, queryset, kind):
        decision = Decision(kind=kind, targets=tuple(queryset), moderator=request.user)
        cancel_url = reverse("admin:accounts_user_changelist")
        return decide(self, request, decision, cancel_url=cancel_url, selected=queryset)

    @admin.action(description=gettext_lazy("Ban the selected users"), permissions=["ban"])
    def ban(self, request, queryset):
        return self._decide(request, queryset, Kind.BAN)

    @admin.action(description=gettext_lazy("Lift the bans of the selected users"), permissions=["ban"])
    def unban(self, request, queryset):
        return self._decide(request, queryset, Kind.UNBAN)

    def _may_ban(self, request, user) -> bool:
        """Whether `user`'s page offers Ban and Lift ban: the right to, and the service's own
        rules (`user_ban_check`), so that no button leads to a refusal."""
        if not self.has_ban_permission(request):
            return False
        try:
            services.user_ban_check(user=user, moderator=request.user)
        except PermissionDenied:
            return False
        return True

    def has_delete_permission(self, request, obj=None):
        # The service's own rules, so that the button is not offered where it would be refused.
        if obj is not None:
            try:
                services.user_delete_check(user=obj, moderator=request.user)
            except PermissionDenied:
                return False
        return super().has_delete_permission(request, obj)

    def get_deleted_objects(self, objs, request):
        # What goes with an account (videos, bans, reports, limit hits) cannot be deleted in
        # admin on its own: removing or lifting is the decision there. The service deals with
        # each, so only the right to delete these users themselves counts.
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        users = str(User._meta.verbose_name)
        return deleted, counts, {name for name in perms_needed if str(name) == users}, protected

    def delete_model(self, request, obj):
        services.user_delete(user=obj, moderator=request.user, reason=_("Account deleted in admin."))

    def delete_queryset(self, request, queryset):
        for user in queryset:
            try:
                services.user_delete(user=user, moderator=request.user, reason=_("Account deleted in admin."))
            except PermissionDenied as refusal:
                self.message_user(request, str(refusal), messages.ERROR)

    def get_urls(self):
        decide_one = self.admin_site.admin_view(self.decide_one)
        return [path("<int:user_id>/decide/<str:kind>/", decide_one, name="accounts_user_decide"), *super().get_urls()]

    def decide_one(self, request, user_id: int, kind: str):
        """The Ban / Lift ban buttons of a user's page."""
        if kind not in (Kind.BAN, Kind.UNBAN) or not self.has_ban_permission(request):
            return redirect("admin:accounts_user_change", user_id)
        user = get_object_or_404(User, pk=user_id)
        decision = Decision(kind=kind, targets=(user,), moderator=request.user)
        page = reverse("admin:accounts_user_change", args=[user_id])
        return decide(self, request, decision, cancel_url=page) or redirect(page)

    def render_change_form(self, request, context, *args, obj=None, **kwargs):
        context["can_ban"] = obj is not None and self._may_ban(request, obj)
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)
