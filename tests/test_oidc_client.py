"""An independent OIDC client (Authlib's) runs the code flow against our discovery document."""

import secrets
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.jwk import KeySet

from miniapp.mockwx import services

pytestmark = pytest.mark.django_db(transaction=True)
REDIRECT_URI = "https://relying-party.example/callback"


def test_a_third_party_client_signs_in_and_verifies_the_id_token(live_site, identities):
    discovery = requests.get(f"{live_site}/mockwx/.well-known/openid-configuration", timeout=10).json()
    client, secret = services.client_register(name="relying-party", redirect_uris=[REDIRECT_URI])
    session = OAuth2Session(
        client_id=client.client_id,
        client_secret=secret,
        scope="openid profile friends",
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
    )
    verifier = generate_token(48)
    nonce = secrets.token_urlsafe(16)
    url, state = session.create_authorization_url(
        discovery["authorization_endpoint"], code_verifier=verifier, nonce=nonce, login_hint="bob", prompt="none"
    )

    # The redirect URI is not served here: read the code off the Location header.
    response = requests.get(url, allow_redirects=False, timeout=10)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(REDIRECT_URI)
    assert parse_qs(urlsplit(location).query)["state"] == [state]

    token = session.fetch_token(discovery["token_endpoint"], authorization_response=location, code_verifier=verifier)
    keys = KeySet.import_key_set(requests.get(discovery["jwks_uri"], timeout=10).json())
    id_token = jwt.decode(token["id_token"], keys, algorithms=discovery["id_token_signing_alg_values_supported"])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": discovery["issuer"]},
        aud={"essential": True, "value": client.client_id},
        nonce={"essential": True, "value": nonce},
        exp={"essential": True},
    ).validate(id_token.claims)
    assert id_token.header["kid"] in {key.kid for key in keys}
    assert id_token.claims["nickname"] == "bob"

    userinfo = session.get(discovery["userinfo_endpoint"], timeout=10).json()
    assert userinfo["sub"] == id_token.claims["sub"]
    friends = session.get(discovery["friends_endpoint"], timeout=10).json()["friends"]
    assert [f["nickname"] for f in friends] == ["alice"]

    refreshed = session.refresh_token(discovery["token_endpoint"])
    assert refreshed["access_token"] != token["access_token"]


def test_a_signature_from_another_key_is_rejected(live_site, identities):
    from joserfc.errors import BadSignatureError
    from joserfc.jwk import RSAKey

    keys = KeySet.import_key_set(requests.get(f"{live_site}/mockwx/jwks", timeout=10).json())
    forged = jwt.encode({"alg": "RS256", "kid": keys.keys[0].kid}, {"sub": "x"}, RSAKey.generate_key(2048))
    with pytest.raises(BadSignatureError):
        jwt.decode(forged, keys)
