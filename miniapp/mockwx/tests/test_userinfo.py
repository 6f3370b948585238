from miniapp.mockwx import services
from miniapp.mockwx.models import Token
from tests.fixtures.oauth import REDIRECT_URI, OAuthApp


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_it_returns_the_profile(oauth, identities):
    access = oauth.tokens_for("alice")["access_token"]
    response = oauth.http.get("/mockwx/userinfo", **bearer(access))
    assert response.status_code == 200
    claims = response.json()
    assert claims["sub"] == services.openid_for(client=oauth.client, identity=identities["alice"])
    assert claims["nickname"] == "alice"
    assert claims["unionid"] == identities["alice"].unionid
    assert claims["picture"].endswith(f"/mockwx/avatar/{identities['alice'].unionid}.svg")


def test_openid_is_pairwise_and_unionid_is_shared(oauth, identities, client):
    other, secret = services.client_register(name="other", redirect_uris=[REDIRECT_URI])
    second = OAuthApp(client, other, secret)
    mine = oauth.http.get("/mockwx/userinfo", **bearer(oauth.tokens_for("alice")["access_token"])).json()
    theirs = client.get("/mockwx/userinfo", **bearer(second.tokens_for("alice")["access_token"])).json()
    assert mine["sub"] != theirs["sub"]
    assert mine["unionid"] == theirs["unionid"]
    again = oauth.http.get("/mockwx/userinfo", **bearer(oauth.tokens_for("alice")["access_token"])).json()
    assert again["sub"] == mine["sub"]  # stable for the same client


def test_without_profile_scope_only_sub(oauth):
    access = oauth.tokens_for("alice", scope="openid")["access_token"]
    claims = oauth.http.get("/mockwx/userinfo", **bearer(access)).json()
    assert set(claims) == {"sub"}


def test_it_refuses_an_expired_token(oauth):
    access = oauth.tokens_for("alice")["access_token"]
    Token.objects.filter(access_token=access).update(issued_at=0)
    response = oauth.http.get("/mockwx/userinfo", **bearer(access))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    assert "invalid_token" in response["WWW-Authenticate"]


def test_it_refuses_a_token_without_the_openid_scope(oauth):
    access = oauth.tokens_for("alice", scope="friends")["access_token"]
    response = oauth.http.get("/mockwx/userinfo", **bearer(access))
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"


def test_it_refuses_a_missing_or_unknown_token(oauth):
    assert oauth.http.get("/mockwx/userinfo").status_code == 401
    assert oauth.http.get("/mockwx/userinfo", **bearer("nope")).status_code == 401


def test_friends_lists_pairwise_openids(oauth, identities):
    access = oauth.tokens_for("alice")["access_token"]
    response = oauth.http.get("/mockwx/friends", **bearer(access))
    assert response.status_code == 200
    friends = response.json()["friends"]
    assert [f["nickname"] for f in friends] == ["bob", "carol", "dave"]
    assert friends[0]["sub"] == services.openid_for(client=oauth.client, identity=identities["bob"])


def test_friends_needs_the_friends_scope(oauth):
    access = oauth.tokens_for("alice", scope="openid profile")["access_token"]
    response = oauth.http.get("/mockwx/friends", **bearer(access))
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"


def test_avatars_are_svg_and_escape_the_nickname(client, db):
    identity = services.identity_get_or_create(nickname="<b>")
    response = client.get(f"/mockwx/avatar/{identity.unionid}.svg")
    assert response["Content-Type"] == "image/svg+xml"
    assert b"&lt;" in response.content and b"<b>" not in response.content
    assert client.get("/mockwx/avatar/nobody.svg").status_code == 404
