from allauth.socialaccount.models import SocialToken
from django.contrib import admin

from miniapp.accounts.groups import groups_lock, member_counts_update
from miniapp.accounts.models import Friendship, Group, Membership, PendingFriend, PendingMember

# Users themselves are administered where they are moderated: `moderation.admin.users`.

# The provider tokens kept for reading a user's groups again (SOCIALACCOUNT_STORE_TOKENS) are
# credentials: no one reads them in admin. (allauth's admin comes first in INSTALLED_APPS.)
if admin.site.is_registered(SocialToken):
    admin.site.unregister(SocialToken)


@admin.register(Friendship)
class FriendshipAdmin(admin.ModelAdmin):
    list_display = ["user", "friend", "created"]
    list_select_related = ["user", "friend"]
    raw_id_fields = ["user", "friend"]
    search_fields = ["user__username", "user__display_name", "friend__username"]


@admin.register(PendingFriend)
class PendingFriendAdmin(admin.ModelAdmin):
    list_display = ["user", "provider", "nickname", "uid"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    search_fields = ["user__username", "nickname", "uid"]


class MembershipInline(admin.TabularInline):
    model = Membership
    raw_id_fields = ["user"]
    readonly_fields = ["read_up_to", "joined"]
    extra = 0


class PendingMemberInline(admin.TabularInline):
    model = PendingMember
    readonly_fields = ["uid", "nickname"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    """The provider's groups as the app imported them: rewritten at each member's sign-in, so
    edits here last until then (edit the provider's group instead)."""

    list_display = ["name", "provider", "gid", "member_count", "created"]
    search_fields = ["name", "gid"]
    readonly_fields = ["provider", "gid", "member_count", "created"]
    inlines = [MembershipInline, PendingMemberInline]

    def save_related(self, request, form, formsets, change):
        groups_lock([form.instance.pk])
        super().save_related(request, form, formsets, change)
        member_counts_update([form.instance.pk])
