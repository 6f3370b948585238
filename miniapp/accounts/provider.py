"""The app's side of the provider: start a sign-in, read the friend list.

Everything here works against any OpenID Connect provider configured in
settings; the friend list is read only when the provider's discovery document
offers a `friends_endpoint` (our mock provider does, WeChat-style).
"""

import logging

import requests
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.models import SocialLogin
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from django.conf import settings
from django.http import HttpRequest, HttpResponse

log = logging.getLogger(__name__)


def signin_redirect(request: HttpRequest, *, next_url: str, login_hint: str = "") -> HttpResponse:
    """Redirect to the provider's authorization page; allauth keeps the state."""
    provider = get_adapter().get_provider(request, settings.OIDC_PROVIDER_ID)
    auth_params = provider.get_auth_params()
    if login_hint:
        # The mock provider signs the named identity in without a page.
        auth_params.update(login_hint=login_hint, prompt="none")
    return provider.redirect(request, process="login", next_url=next_url, auth_params=auth_params)


def friends_fetch(request: HttpRequest, sociallogin: SocialLogin) -> list[dict] | None:
    """The signed-in user's friends as the provider lists them, or None when unknown.

    None means "leave the friendships alone": the provider has no friend list, the
    token lacks the scope, or the provider could not be reached.
    """
    if not settings.OIDC_FETCH_FRIENDS or sociallogin.token is None:
        return None
    adapter = OpenIDConnectOAuth2Adapter(request, sociallogin.account.provider)
    try:
        endpoint = adapter.openid_config.get("friends_endpoint")
        if not endpoint:
            return None
        with get_adapter().get_requests_session() as session:
            response = session.get(endpoint, headers={"Authorization": f"Bearer {sociallogin.token.token}"})
        if response.status_code != 200:
            log.warning("friend list refused: %s %s", response.status_code, response.text[:200])
            return None
        friends = response.json().get("friends")
    except (requests.RequestException, ValueError, AttributeError) as error:
        log.warning("friend list unavailable: %s", error)
        return None
    return friends if isinstance(friends, list) else None
