"""A code is redeemed once even when several token requests race for it."""

import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from miniapp.mockwx import services
from miniapp.mockwx.models import Token
from tests.fixtures.oauth import OAuthApp

pytestmark = pytest.mark.django_db(transaction=True)
REDIRECT_URI = "https://race.example/cb"


def test_concurrent_redemptions_yield_one_token(live_site, identities):
    client, secret = services.client_register(name="race", redirect_uris=[REDIRECT_URI])
    app = OAuthApp(None, client, secret)
    params = app.authorize_params(redirect_uri=REDIRECT_URI, login_hint="alice", prompt="none")
    location = requests.get(f"{live_site}/mockwx/authorize", params, allow_redirects=False, timeout=10)
    code = parse_qs(urlsplit(location.headers["Location"]).query)["code"][0]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    form["code_verifier"] = app.verifier

    def redeem(_):
        return requests.post(f"{live_site}/mockwx/token", form, auth=(client.client_id, secret), timeout=20).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(redeem, range(8)))
    assert statuses.count(200) == 1
    assert statuses.count(400) == 7
    # The losers' attempts count as replays: the winner's token is revoked too.
    assert Token.objects.filter(client=client).count() == 1
    assert Token.objects.select_related("code").get(client=client).is_revoked()


def test_concurrent_first_hints_create_one_identity(live_site, identities):
    """The provider's side of parallel first sign-ins: one new nickname, one identity."""
    from miniapp.mockwx.models import AuthorizationCode, Identity

    client, secret = services.client_register(name="race", redirect_uris=[REDIRECT_URI])
    app = OAuthApp(None, client, secret)
    params = app.authorize_params(redirect_uri=REDIRECT_URI, login_hint="newcomer", prompt="none")
    start = threading.Barrier(8)

    def authorize(_):
        start.wait(timeout=10)
        return requests.get(f"{live_site}/mockwx/authorize", params, allow_redirects=False, timeout=20).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(authorize, range(8)))
    assert statuses == [302] * 8
    identity = Identity.objects.get(nickname="newcomer")
    assert set(AuthorizationCode.objects.filter(client=client).values_list("identity", flat=True)) == {identity.pk}


def test_concurrent_refreshes_with_one_refresh_token_leave_no_live_token(live_site, identities):
    """One refresh token sent 8 times at once is a copy in use: at most one refresh gets
    through, and the family, its new token included, is revoked."""
    client, secret = services.client_register(name="race", redirect_uris=[REDIRECT_URI])
    app = OAuthApp(None, client, secret)
    params = app.authorize_params(redirect_uri=REDIRECT_URI, login_hint="alice", prompt="none")
    location = requests.get(f"{live_site}/mockwx/authorize", params, allow_redirects=False, timeout=10)
    form = {"grant_type": "authorization_code", "redirect_uri": REDIRECT_URI, "code_verifier": app.verifier}
    form["code"] = parse_qs(urlsplit(location.headers["Location"]).query)["code"][0]
    tokens = requests.post(f"{live_site}/mockwx/token", form, auth=(client.client_id, secret), timeout=10).json()
    start = threading.Barrier(8)

    def refresh(_):
        start.wait(timeout=10)
        form = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
        return requests.post(f"{live_site}/mockwx/token", form, auth=(client.client_id, secret), timeout=20)

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(refresh, range(8)))
    assert [r.status_code for r in responses].count(200) <= 1
    assert {r.status_code for r in responses} <= {200, 400}
    issued = [r.json()["access_token"] for r in responses if r.status_code == 200] + [tokens["access_token"]]
    for access in issued:
        answer = requests.get(f"{live_site}/mockwx/userinfo", headers={"Authorization": f"Bearer {access}"}, timeout=10)
        assert answer.status_code == 401
    assert all(token.is_revoked() for token in Token.objects.select_related("code").filter(client=client))
