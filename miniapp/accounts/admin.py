from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from miniapp.accounts.models import Friendship, PendingFriend, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "display_name", "is_staff", "is_active", "date_joined", "last_login"]
    search_fields = ["username", "display_name"]
    fieldsets = BaseUserAdmin.fieldsets + (("miniapp", {"fields": ["display_name", "avatar_url"]}),)


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
