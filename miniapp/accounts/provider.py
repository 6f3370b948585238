"""The app's side of the provider: start a sign-in, read the friend list and the groups.

Everything here works against any OpenID Connect provider configured in settings; the
friend list and the groups are read only when the provider's discovery document offers a
`friends_endpoint` / `groups_endpoint` (our mock provider does, WeChat-style).
"""

import logging
from datetime import timedelta

import requests
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.models import SocialLogin, SocialToken
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

log = logging.getLogger(__name__)

# A stored token this close to its end is refreshed before use.
TOKEN_MARGIN = timedelta(seconds=60)


# Where a sign-in that is cancelled or fails goes back to (the session's; `views.login` sets it).
SIGN_IN_CANCELLED_TO = "sign_in_cancelled_to"


def stays_on_site(request: HttpRequest, url: str) -> bool:
    """Whether redirecting to `url` keeps the browser on this site (no open redirect)."""
    return url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=request.is_secure())


def signin_redirect(request: HttpRequest, *, next_url: str, login_hint: str = "") -> HttpResponse:
    """Redirect to the provider's authorization page; allauth keeps the state."""
    provider = get_adapter().get_provider(request, settings.OIDC_PROVIDER_ID)
    auth_params = provider.get_auth_params()
    if login_hint:
        # The mock provider signs the named identity in without a page.
        auth_params.update(login_hint=login_hint, prompt="none")
    return provider.redirect(request, process="login", next_url=next_url, auth_params=auth_params)


def _openid_config(request: HttpRequest) -> dict:
    provider = get_adapter().get_provider(request, settings.OIDC_PROVIDER_ID)
    return OpenIDConnectOAuth2Adapter(request, provider.id).openid_config


def provider_list(request: HttpRequest, *, access_token: str, endpoint: str, field: str) -> list[dict] | None:
    """The list under `field` that the discovery document's `endpoint` answers for this token,
    or None when unknown: the provider has no such endpoint, the token lacks the scope, or the
    provider could not be reached. None means "leave what we have alone"."""
    try:
        url = _openid_config(request).get(endpoint)
        if not url:
            return None
        with get_adapter().get_requests_session() as session:
            response = session.get(url, headers={"Authorization": f"Bearer {access_token}"})
        if response.status_code != 200:
            log.warning("%s refused: %s %s", endpoint, response.status_code, response.text[:200])
            return None
        found = response.json().get(field)
    except (requests.RequestException, ValueError, AttributeError) as error:
        log.warning("%s unavailable: %s", endpoint, error)
        return None
    return found if isinstance(found, list) and all(isinstance(entry, dict) for entry in found) else None


def friends_fetch(request: HttpRequest, sociallogin: SocialLogin) -> list[dict] | None:
    """The signed-in user's friends as the provider lists them (`provider_list`)."""
    if not settings.OIDC_FETCH_FRIENDS or sociallogin.token is None:
        return None
    return provider_list(request, access_token=sociallogin.token.token, endpoint="friends_endpoint", field="friends")


def groups_fetch(request: HttpRequest, *, access_token: str) -> list[dict] | None:
    """The user's groups with their members as the provider lists them (`provider_list`)."""
    if not settings.OIDC_FETCH_GROUPS:
        return None
    return provider_list(request, access_token=access_token, endpoint="groups_endpoint", field="groups")


def stored_token(request: HttpRequest, *, user_id: int) -> str | None:
    """The user's access token at the provider as kept from their last sign-in, refreshed with
    its refresh token when it has expired; None when there is none that works (they sign in
    again). Only one request at a time may call this for a user: the provider revokes a
    refresh token used twice (`accounts.groups.groups_refresh` makes sure)."""
    token = (
        SocialToken.objects.filter(account__user_id=user_id, account__provider=settings.OIDC_PROVIDER_ID)
        .order_by("-pk")
        .first()
    )
    if token is None:
        return None
    if token.expires_at is None or token.expires_at > timezone.now() + TOKEN_MARGIN:
        return token.token
    if not token.token_secret:
        return None
    try:
        url = _openid_config(request)["token_endpoint"]
        with get_adapter().get_requests_session() as session:
            response = session.post(
                url,
                data={"grant_type": "refresh_token", "refresh_token": token.token_secret},
                auth=(settings.OIDC_CLIENT_ID, settings.OIDC_CLIENT_SECRET),
            )
        answer = response.json() if response.status_code == 200 else {}
    except (requests.RequestException, ValueError, KeyError) as error:
        log.warning("token refresh unavailable: %s", error)
        return None
    if not isinstance(answer, dict) or not isinstance(answer.get("access_token"), str):
        log.warning("token refresh refused: %s %s", response.status_code, response.text[:200])
        return None
    token.token = answer["access_token"]
    token.token_secret = answer.get("refresh_token") or token.token_secret
    expires_in = answer.get("expires_in")
    token.expires_at = timezone.now() + timedelta(seconds=expires_in) if isinstance(expires_in, int) else None
    token.save(update_fields=["token", "token_secret", "expires_at"])
    return token.token
