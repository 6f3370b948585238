"""Shared personas and servers for the whole suite.

alice has friends bob, carol and dave (as on the provider); erin is nobody's friend.
"""

from pathlib import Path

import pytest
import requests
from django.urls import reverse

from miniapp.accounts import services as accounts
from miniapp.lib.catalogs import catalogs_compile
from miniapp.lib.oidc import socialaccount_providers
from miniapp.mockwx import services as mockwx

DEMO_FRIENDS = {"alice": ["bob", "carol", "dave"], "bob": ["alice"], "carol": ["alice"], "dave": ["alice"], "erin": []}
CALLBACK = "/accounts/oidc/wx/login/callback/"


def pytest_configure(config):
    # Pages and messages are checked in Chinese and English: a fresh clone has no .mo files yet.
    catalogs_compile(locale_dirs=[Path(__file__).resolve().parent / "locale"])


@pytest.fixture(autouse=True)
def fresh_channel_layer():
    """A channel layer of the test's own: a Redis layer's connections and receive loop belong
    to the event loop that first used them, and every async test runs its own loop. (Redis
    itself is not flushed: the browser tests' server keeps its hub in the group there.)"""
    from channels.layers import channel_layers

    from miniapp.realtime.hub import hub

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()
    hub.sockets.clear()  # sockets a test left open belong to its finished event loop


@pytest.fixture
def identities(db):
    """The demo identities on the mock provider, keyed by nickname."""
    found = {name: mockwx.identity_get_or_create(nickname=name) for name in DEMO_FRIENDS}
    for name, friends in DEMO_FRIENDS.items():
        found[name].friends.add(*[found[f] for f in friends])
    return found


def point_app_at(settings, base_url: str):
    """Make the app sign in against the mock provider served at `base_url`."""
    settings.SITE_URL = base_url
    settings.SOCIALACCOUNT_PROVIDERS = socialaccount_providers(
        provider_id=settings.OIDC_PROVIDER_ID,
        name=settings.OIDC_PROVIDER_NAME,
        issuer=f"{base_url}/mockwx",
        client_id=settings.OIDC_CLIENT_ID,
        secret=settings.OIDC_CLIENT_SECRET,
        scopes=settings.OIDC_SCOPES,
    )
    client, _ = mockwx.client_register(
        name="miniapp",
        client_id=settings.OIDC_CLIENT_ID,
        secret=settings.OIDC_CLIENT_SECRET,
        redirect_uris=[f"{base_url}{CALLBACK}"],
    )
    return client


@pytest.fixture
def app_client(db, settings):
    """The app's own client on the mock provider, for tests served as http://testserver."""
    return point_app_at(settings, "http://testserver")


@pytest.fixture
def live_site(live_server, settings, identities):
    """The app and the mock provider on a real HTTP server; the provider is the app's issuer."""
    point_app_at(settings, live_server.url)
    return live_server.url


@pytest.fixture
def browser():
    """A requests session that follows redirects and keeps cookies, like a browser."""
    with requests.Session() as session:
        yield session


def signin(browser: requests.Session, base_url: str, nickname: str, next_url: str = "/api/me/"):
    """Sign in through the contract: /login/ → provider → callback → `next_url`."""
    return browser.get(f"{base_url}{reverse('login')}", params={"login_hint": nickname, "next": next_url}, timeout=10)


@pytest.fixture
def users(identities, app_client):
    """The demo personas as app users with their friendships, as `seed_demo` makes them."""
    found = {}
    for name, identity in identities.items():
        claims = mockwx.profile_claims(client=app_client, identity=identity)
        found[name] = accounts.user_get_or_create_for_provider(
            provider="wx", uid=claims["sub"], nickname=name, avatar_url=claims["picture"]
        )
    for name, identity in identities.items():
        claims = mockwx.profile_claims(client=app_client, identity=identity)
        accounts.friends_sync(
            user=found[name],
            provider="wx",
            uid=claims["sub"],
            friends=mockwx.friends_claims(client=app_client, identity=identity),
        )
    return found
