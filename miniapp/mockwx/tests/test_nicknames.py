"""One rule for a nickname, typed on the persona page or given as `login_hint`.

The review's hints made identities the consent form would refuse: `ali\u200bce` (shown as
"alice"), `\u202eecila` (shown as "alice"), `bob\x00`, a BEL and a newline; and a hint
longer than 32 characters was cut to its first 32, signing in someone else.
"""

import pytest

from miniapp.mockwx.models import Identity
from tests.fixtures.oauth import REDIRECT_URI

BAD = {
    "zero-width-space": "ali\u200bce",
    "bidi-override": "\u202eecila",
    "nul": "bob\x00",
    "bel": "bo\x07b",
    "newline": "bob\nalice",
    "tab": "bob\talice",
    "too-long": "x" * 33,
}
GOOD = ["老王", "Zoë", "👨\u200d👩\u200d👧 family", "x" * 32, "bob smith"]


def persona_url(oauth, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in oauth.authorize_params(**params).items())
    return f"/mockwx/authorize?{query}"


@pytest.mark.parametrize("nickname", BAD.values(), ids=BAD.keys())
def test_a_bad_login_hint_is_refused_with_a_reason(oauth, nickname):
    response = oauth.http.get("/mockwx/authorize", oauth.authorize_params(login_hint=nickname, prompt="none"))
    assert response.status_code == 400
    assert "Location" not in response
    page = response.content.decode()
    assert "login_hint" in page
    assert "U+" in page or "32" in page  # which character, or how long it may be
    assert not Identity.objects.exclude(nickname__in=["alice", "bob", "carol", "dave", "erin"]).exists()


@pytest.mark.parametrize("nickname", BAD.values(), ids=BAD.keys())
def test_the_persona_page_refuses_the_same_nicknames(oauth, nickname):
    response = oauth.http.post(persona_url(oauth), {"decision": "allow", "nickname": nickname})
    assert response.status_code == 400
    assert not Identity.objects.exclude(nickname__in=["alice", "bob", "carol", "dave", "erin"]).exists()


@pytest.mark.parametrize("nickname", BAD.values(), ids=BAD.keys())
def test_a_bad_hint_on_the_persona_page_is_refused_too(oauth, nickname):
    """Without prompt=none the hint only fills in the form, but it must not be cut or kept."""
    response = oauth.http.get("/mockwx/authorize", oauth.authorize_params(login_hint=nickname))
    assert response.status_code == 400


@pytest.mark.parametrize("nickname", BAD.values(), ids=BAD.keys())
def test_the_wechat_dialect_refuses_the_same_hints(oauth, nickname):
    params = {
        "appid": oauth.client.client_id,
        "redirect_uri": REDIRECT_URI,
        "response_type": "code",
        "scope": "snsapi_userinfo",
        "login_hint": nickname,
        "prompt": "none",
    }
    response = oauth.http.get("/mockwx/connect/oauth2/authorize", params)
    assert response.status_code == 400
    assert "login_hint" in response.content.decode()


@pytest.mark.parametrize("nickname", GOOD)
def test_good_nicknames_work_both_ways(oauth, nickname):
    oauth.code_for(nickname)
    assert Identity.objects.filter(nickname=nickname).count() == 1
    Identity.objects.filter(nickname=nickname).delete()
    response = oauth.http.post(persona_url(oauth), {"decision": "allow", "nickname": nickname})
    assert response.status_code == 302
    assert Identity.objects.filter(nickname=nickname).count() == 1


def test_a_hint_is_stripped_like_a_typed_nickname(oauth, identities):
    oauth.code_for("  alice ")
    assert not Identity.objects.filter(nickname__startswith=" ").exists()


def test_the_admin_applies_the_same_rule(admin_client):
    response = admin_client.post("/admin/mockwx/identity/add/", {"nickname": "ali\u200bce"})
    assert response.status_code == 200  # the form again, with the error
    assert not Identity.objects.filter(nickname="ali\u200bce").exists()
