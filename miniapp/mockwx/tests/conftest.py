import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import pytest

from miniapp.mockwx import services

REDIRECT_URI = "https://client.example/cb"


class OAuthApp:
    """A registered client and the helpers a client app needs: PKCE, authorize, token."""

    def __init__(self, django_client, client, secret):
        self.http = django_client
        self.client = client
        self.secret = secret
        self.verifier = secrets.token_urlsafe(48)

    @property
    def challenge(self) -> str:
        digest = hashlib.sha256(self.verifier.encode()).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def authorize_params(self, **overrides) -> dict:
        params = {
            "response_type": "code",
            "client_id": self.client.client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": "openid profile friends",
            "state": "st-123",
            "code_challenge": self.challenge,
            "code_challenge_method": "S256",
        }
        params.update(overrides)
        return {k: v for k, v in params.items() if v is not None}

    def code_for(self, nickname: str, **overrides) -> str:
        response = self.http.get(
            "/mockwx/authorize", self.authorize_params(login_hint=nickname, prompt="none", **overrides)
        )
        assert response.status_code == 302, response.content
        return query_of(response["Location"])["code"]

    def basic_auth(self, secret: str | None = None) -> str:
        raw = f"{self.client.client_id}:{secret or self.secret}".encode()
        return "Basic " + base64.b64encode(raw).decode()

    def token(self, code: str, *, secret: str | None = None, **overrides):
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
        data["code_verifier"] = self.verifier
        data.update(overrides)
        data = {k: v for k, v in data.items() if v is not None}
        return self.http.post("/mockwx/token", data, HTTP_AUTHORIZATION=self.basic_auth(secret))

    def tokens_for(self, nickname: str, **overrides) -> dict:
        response = self.token(self.code_for(nickname, **overrides))
        assert response.status_code == 200, response.content
        return response.json()


def query_of(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


@pytest.fixture
def oauth(client, identities, settings):
    settings.SITE_URL = "http://testserver"
    registered, secret = services.client_register(name="testapp", redirect_uris=[REDIRECT_URI])
    return OAuthApp(client, registered, secret)
