"""A token family: the tokens issued for one code, and every token refreshed from them.

The review replayed a code after refreshing its tokens: the refreshed access token still
answered /userinfo and its refresh token still issued tokens. A replayed code, or a refresh
token used again after it was rotated, means a copy is out there: the whole family goes.
"""

from miniapp.mockwx.models import Token


def refresh(oauth, refresh_token: str):
    return oauth.http.post(
        "/mockwx/token",
        {"grant_type": "refresh_token", "refresh_token": refresh_token},
        HTTP_AUTHORIZATION=oauth.basic_auth(),
    )


def userinfo(oauth, access_token: str) -> int:
    return oauth.http.get("/mockwx/userinfo", HTTP_AUTHORIZATION=f"Bearer {access_token}").status_code


def family_of(oauth, generations: int = 2):
    """A code, its tokens and `generations` refreshes of them, newest last."""
    code = oauth.code_for("alice")
    first = oauth.token(code)
    assert first.status_code == 200
    tokens = [first.json()]
    for _ in range(generations):
        response = refresh(oauth, tokens[-1]["refresh_token"])
        assert response.status_code == 200
        tokens.append(response.json())
    assert userinfo(oauth, tokens[-1]["access_token"]) == 200
    return code, tokens


def assert_family_revoked(oauth, tokens):
    for token in tokens:
        assert userinfo(oauth, token["access_token"]) == 401
        assert refresh(oauth, token["refresh_token"]).status_code == 400


def test_a_replayed_code_revokes_the_tokens_refreshed_from_its_tokens(oauth):
    code, tokens = family_of(oauth)
    assert oauth.token(code).status_code == 400
    assert_family_revoked(oauth, tokens)


def test_a_rotated_refresh_token_used_again_revokes_the_family(oauth):
    _, tokens = family_of(oauth)
    reuse = refresh(oauth, tokens[0]["refresh_token"])
    assert reuse.status_code == 400
    assert reuse.json()["error"] == "invalid_grant"
    assert_family_revoked(oauth, tokens)


def test_another_family_of_the_same_user_and_client_is_left_alone(oauth):
    code, tokens = family_of(oauth, generations=1)
    _, others = family_of(oauth, generations=1)
    assert oauth.token(code).status_code == 400
    assert userinfo(oauth, others[-1]["access_token"]) == 200
    assert refresh(oauth, others[-1]["refresh_token"]).status_code == 200


def test_a_token_saved_after_the_family_was_revoked_is_void_too(oauth):
    """A refresh racing the replay: its token is written after the revocation."""
    code, tokens = family_of(oauth, generations=1)
    newest = Token.objects.get(access_token=tokens[-1]["access_token"])
    assert oauth.token(code).status_code == 400
    late = Token.objects.create(
        client=newest.client,
        identity=newest.identity,
        code=newest.code,
        access_token="late-access",
        refresh_token="late-refresh",
        expires_in=3600,
    )
    assert late.is_revoked()
    assert userinfo(oauth, "late-access") == 401


def test_a_refresh_with_a_wrong_scope_does_not_use_the_refresh_token_up(oauth):
    _, tokens = family_of(oauth, generations=0)
    wrong = oauth.http.post(
        "/mockwx/token",
        {"grant_type": "refresh_token", "refresh_token": tokens[-1]["refresh_token"], "scope": "openid admin"},
        HTTP_AUTHORIZATION=oauth.basic_auth(),
    )
    assert wrong.status_code == 400
    assert refresh(oauth, tokens[-1]["refresh_token"]).status_code == 200
