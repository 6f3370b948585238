import time

from joserfc import jwt
from joserfc.jwk import KeySet

from miniapp.mockwx import services
from miniapp.mockwx.models import AuthorizationCode, Token
from tests.fixtures.oauth import REDIRECT_URI


def test_it_exchanges_a_code_for_tokens(oauth, identities):
    tokens = oauth.tokens_for("alice")
    assert tokens["token_type"].lower() == "bearer"
    assert tokens["access_token"] and tokens["refresh_token"] and tokens["id_token"]
    assert tokens["expires_in"] == 7200
    assert set(tokens["scope"].split()) == {"openid", "profile", "friends"}


def test_the_id_token_is_signed_with_a_published_key(oauth, identities):
    tokens = oauth.tokens_for("alice", nonce="n-42")
    keys = KeySet.import_key_set(oauth.http.get("/mockwx/jwks").json())
    token = jwt.decode(tokens["id_token"], keys, algorithms=["RS256"])
    assert token.header["kid"] == keys.keys[0].kid
    claims = token.claims
    assert claims["iss"] == "http://testserver/mockwx"
    assert claims["aud"] == [oauth.client.client_id]
    assert claims["nonce"] == "n-42"
    assert claims["sub"] == services.openid_for(client=oauth.client, identity=identities["alice"])
    assert claims["nickname"] == "alice"
    assert claims["exp"] > time.time()


def test_it_accepts_the_secret_in_the_body(oauth):
    code = oauth.code_for("alice")
    response = oauth.http.post(
        "/mockwx/token",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": oauth.verifier,
            "client_id": oauth.client.client_id,
            "client_secret": oauth.secret,
        },
    )
    assert response.status_code == 200


def test_it_rejects_a_wrong_secret(oauth):
    response = oauth.token(oauth.code_for("alice"), secret="wrong")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_it_rejects_a_missing_verifier(oauth):
    response = oauth.token(oauth.code_for("alice"), code_verifier=None)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_it_rejects_a_wrong_verifier(oauth):
    response = oauth.token(oauth.code_for("alice"), code_verifier="x" * 50)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_a_replayed_code_is_refused_and_revokes_its_tokens(oauth):
    code = oauth.code_for("alice")
    first = oauth.token(code)
    assert first.status_code == 200
    replay = oauth.token(code)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    access = first.json()["access_token"]
    assert Token.objects.get(access_token=access).revoked
    response = oauth.http.get("/mockwx/userinfo", HTTP_AUTHORIZATION=f"Bearer {access}")
    assert response.status_code == 401
    refresh = oauth.http.post(
        "/mockwx/token",
        {"grant_type": "refresh_token", "refresh_token": first.json()["refresh_token"]},
        HTTP_AUTHORIZATION=oauth.basic_auth(),
    )
    assert refresh.status_code == 400


def test_an_expired_code_is_refused(oauth):
    code = oauth.code_for("alice")
    AuthorizationCode.objects.filter(code=code).update(expires_at="2000-01-01T00:00:00Z")
    response = oauth.token(code)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_codes_expire_after_five_minutes(oauth):
    code = AuthorizationCode.objects.get(code=oauth.code_for("alice"))
    assert 299 <= code.expires_at.timestamp() - code.auth_time <= 301


def test_an_unknown_code_is_refused(oauth):
    response = oauth.token("not-a-code")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_a_different_redirect_uri_is_refused(oauth):
    response = oauth.token(oauth.code_for("alice"), redirect_uri="https://client.example/other")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_another_clients_code_is_refused(oauth, client):
    other, other_secret = services.client_register(name="other", redirect_uris=[REDIRECT_URI])
    code = oauth.code_for("alice")
    from tests.fixtures.oauth import OAuthApp

    thief = OAuthApp(client, other, other_secret)
    thief.verifier = oauth.verifier
    response = thief.token(code)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_it_refreshes_and_rotates_the_refresh_token(oauth):
    tokens = oauth.tokens_for("alice")
    response = oauth.http.post(
        "/mockwx/token",
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        HTTP_AUTHORIZATION=oauth.basic_auth(),
    )
    assert response.status_code == 200
    fresh = response.json()
    assert fresh["access_token"] != tokens["access_token"]
    assert fresh["refresh_token"] != tokens["refresh_token"]
    again = oauth.http.post(
        "/mockwx/token",
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        HTTP_AUTHORIZATION=oauth.basic_auth(),
    )
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_it_rejects_unknown_grant_types(oauth):
    response = oauth.http.post("/mockwx/token", {"grant_type": "password"}, HTTP_AUTHORIZATION=oauth.basic_auth())
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_it_rejects_get(oauth):
    assert oauth.http.get("/mockwx/token").status_code == 405
