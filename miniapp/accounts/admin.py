from django.contrib import admin

from miniapp.accounts.models import Friendship, PendingFriend

# Users themselves are administered where they are moderated: `moderation.admin.users`.


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
