"""django-allauth hooks: how a provider sign-in becomes a miniapp user."""

import requests
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.utils import user_username
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount import app_settings as socialaccount_settings
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialAccount, SocialLogin
from allauth.socialaccount.providers.base import AuthError
from django.contrib import messages
from django.db import IntegrityError, connection, transaction
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from miniapp.accounts import groups as group_services
from miniapp.accounts import services
from miniapp.accounts.provider import SIGN_IN_CANCELLED_TO, friends_fetch, groups_fetch, stays_on_site

# Tries to create a new user before giving up: each failed try means the username was taken
# by someone else at that moment, and the next try generates another one.
SIGNUP_ATTEMPTS = 3


def _profile_from(sociallogin: SocialLogin) -> tuple[str, str]:
    data = sociallogin.account.extra_data
    data = data.get("userinfo") or data.get("id_token") or data
    name = data.get("nickname") or data.get("name") or data.get("preferred_username") or ""
    return str(name), str(data.get("picture") or "")


class ProviderSession(requests.Session):
    """HTTP to the provider (token, profile, friends), which may take a while.

    Each call first hands the request's pooled database connection back (outside a
    transaction), and the next query borrows one again. Otherwise each sign-in holds a
    connection for as long as the provider takes to answer, and a burst of sign-ins can
    take the whole pool (DB_POOL_MAX) from every other request. With the demo provider,
    which answers from the same server, a sign-in's own calls needed a second connection.
    """

    def request(self, *args, **kwargs):
        if getattr(connection, "pool", None) is not None and not connection.in_atomic_block:
            connection.close()
        kwargs.setdefault("timeout", socialaccount_settings.REQUESTS_TIMEOUT)
        return super().request(*args, **kwargs)


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        # Accounts come from the provider only; there is no local sign-up form.
        return False

    def respond_user_inactive(self, request, user):
        # allauth's own page for this is not mounted (urls.py): home, with why.
        messages.error(
            request, _("This account has been deactivated. Contact the moderators if you think it is a mistake.")
        )
        return redirect("home")

    def add_message(self, request, level, message_template=None, message_context=None, extra_tags="", message=None):
        # allauth's English "Successfully signed in as …" toasts are not ours.
        return None

    def post_login(self, request, user, **kwargs):
        sociallogin = (kwargs.get("signal_kwargs") or {}).get("sociallogin")
        if sociallogin is not None:
            name, avatar = _profile_from(sociallogin)
            services.user_update_profile(user=user, display_name=name, avatar_url=avatar)
            provider, uid = sociallogin.account.provider, sociallogin.account.uid
            friends = friends_fetch(request, sociallogin)
            if friends is not None:
                services.friends_sync(user=user, provider=provider, uid=uid, friends=friends)
            groups = groups_fetch(request, access_token=sociallogin.token.token) if sociallogin.token else None
            if groups is not None:
                group_services.groups_sync(user=user, provider=provider, uid=uid, groups=groups)
            else:  # the provider did not say: join where another member's list put this user
                group_services.pending_memberships_claim(user=user, provider=provider, uid=uid)
        return super().post_login(request, user, **kwargs)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request, sociallogin):
        return True

    def get_requests_session(self):
        return ProviderSession()

    def save_user(self, request, sociallogin, form=None):
        """Create the user and their social account once, however many first sign-ins of one
        person arrive together (two tabs, a phone retrying, a double tap).

        allauth checks that the username is free and then inserts the user, and then the social
        account, each on its own: racing sign-ins failed on the username's unique constraint,
        or on the account's (provider, uid) one after their user was saved, which was left
        with no account. Here both rows go in one transaction, and the constraints decide: on
        a conflict the account that another sign-in made is looked up and this sign-in goes on
        as its user; with no such account the username was someone else's, so try another.
        """
        attempts_left = SIGNUP_ATTEMPTS
        while True:
            try:
                with transaction.atomic():
                    return super().save_user(request, sociallogin, form)
            except IntegrityError:
                account = (
                    SocialAccount.objects.filter(provider=sociallogin.account.provider, uid=sociallogin.account.uid)
                    .select_related("user")
                    .first()
                )
                if account is not None:
                    account.extra_data = sociallogin.account.extra_data  # this sign-in's profile
                    sociallogin.account, sociallogin.user = account, account.user
                    return account.user
                attempts_left -= 1
                if not attempts_left:
                    raise
                # Rolled back: insert both again, under a username generated afresh.
                for row in (sociallogin.user, sociallogin.account):
                    row.pk = None
                    row._state.adding = True
                user_username(sociallogin.user, "")

    def populate_user(self, request, sociallogin, data):
        user = super().populate_user(request, sociallogin, data)
        name, avatar = _profile_from(sociallogin)
        user.display_name = name[:64]
        user.avatar_url = services.http_url(avatar)[:500]
        if not user.username:
            user.username = name or "wx"
        return user

    def on_authentication_error(self, request, provider, error=None, exception=None, extra_context=None):
        """Back where the sign-in started (the video whose like asked for it, say), with what
        happened said; home when that is unknown or not a page of this site."""
        if error == AuthError.CANCELLED:
            messages.info(request, _("Sign-in was cancelled. You can keep watching without signing in."))
        else:
            messages.error(request, _("Sign-in failed. Please try again."))
        back = request.session.pop(SIGN_IN_CANCELLED_TO, None)
        raise ImmediateHttpResponse(redirect(back if back and stays_on_site(request, back) else "home"))
