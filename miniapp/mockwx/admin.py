from django import forms
from django.contrib import admin

from miniapp.mockwx.forms import IdentityAdminForm
from miniapp.mockwx.groups import group_members_check
from miniapp.mockwx.models import AuthorizationCode, Client, Group, Identity, SigningKey, Token


@admin.register(Identity)
class IdentityAdmin(admin.ModelAdmin):
    form = IdentityAdminForm  # a nickname typed here follows the persona page's rule
    list_display = ["nickname", "unionid", "created"]
    search_fields = ["nickname", "unionid"]
    readonly_fields = ["unionid", "created"]
    filter_horizontal = ["friends"]


class GroupAdminForm(forms.ModelForm):
    def clean_members(self):
        members = list(self.cleaned_data["members"])
        group_members_check(members)
        return members


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    """Groups as the provider keeps them; apps see each by its pairwise id only."""

    form = GroupAdminForm
    list_display = ["name", "owner", "member_count", "created"]
    search_fields = ["name", "members__nickname"]
    readonly_fields = ["key", "created"]
    autocomplete_fields = ["owner"]
    filter_horizontal = ["members"]

    def get_queryset(self, request):
        from django.db.models import Count

        return super().get_queryset(request).select_related("owner").annotate(member_count=Count("members"))

    @admin.display(description="members", ordering="member_count")
    def member_count(self, group) -> int:
        return group.member_count


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ["name", "client_id", "created"]
    search_fields = ["name", "client_id"]
    readonly_fields = ["created"]
    fields = ["name", "client_id", "redirect_uris", "scope", "created"]

    def has_add_permission(self, request):
        # A secret is shown once, by `manage.py mockwx_client`; the admin never sees one.
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AuthorizationCode)
class AuthorizationCodeAdmin(ReadOnlyAdmin):
    list_display = ["identity", "client", "dialect", "scope", "expires_at", "used_at"]
    list_filter = ["dialect", "client"]
    list_select_related = ["identity", "client"]
    exclude = ["code", "code_challenge"]


@admin.register(Token)
class TokenAdmin(ReadOnlyAdmin):
    list_display = ["identity", "client", "dialect", "scope", "issued_at", "expires_in", "revoked"]
    list_filter = ["dialect", "revoked", "client"]
    list_select_related = ["identity", "client"]
    exclude = ["access_token", "refresh_token"]


@admin.register(SigningKey)
class SigningKeyAdmin(ReadOnlyAdmin):
    list_display = ["kid", "created"]
    exclude = ["private_pem"]
