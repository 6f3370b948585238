"""One rule for a nickname, typed on the persona page or given as `login_hint`.

The review's hints made identities the consent form would refuse: `ali\u200bce` (shown as
"alice"), `\u202eecila` (shown as "alice"), `bob\x00`, a BEL and a newline; and a hint
longer than 32 characters was cut to its first 32, signing in someone else. The re-test then
found what still passed: characters that draw nothing but are no format character (the Hangul
fillers, the braille blank, the grapheme joiner, variation selectors), "alice " and
"alice\xa0" trimmed into alice, and a decomposed "José" made beside the composed one.
"""

import pytest

from miniapp.mockwx.models import AuthorizationCode, Identity
from tests.fixtures.oauth import REDIRECT_URI, query_of

DEMO = ["alice", "bob", "carol", "dave", "erin"]

# Each bad nickname, and what the 400 page names: the character, or the 32 it may be long.
BAD = {
    "zero-width-space": ("ali\u200bce", "U+200B"),
    "bidi-override": ("\u202eecila", "U+202E"),
    "nul": ("bob\x00", "U+0000"),
    "bel": ("bo\x07b", "U+0007"),
    "newline": ("bob\nalice", "U+000A"),
    "tab": ("bob\talice", "U+0009"),
    "too-long": ("x" * 33, "32"),
    "trailing-space": ("alice ", "U+0020"),
    "leading-space": (" alice", "U+0020"),
    "only-spaces": ("   ", "U+0020"),
    "trailing-nbsp": ("alice\xa0", "U+00A0"),
    "leading-ideographic-space": ("\u3000alice", "U+3000"),
    "trailing-hair-space": ("alice\u200a", "U+200A"),
    "nbsp-inside": ("bob\xa0smith", "U+00A0"),
    "double-space": ("bob  smith", "U+0020"),
    "hangul-filler": ("ali\u3164ce", "U+3164"),
    "hangul-choseong-filler": ("\u115falice", "U+115F"),
    "halfwidth-hangul-filler": ("alice\uffa0", "U+FFA0"),
    "braille-blank": ("alice\u2800", "U+2800"),
    "grapheme-joiner": ("ali\u034fce", "U+034F"),
    "variation-selector-16": ("alice\ufe0f", "U+FE0F"),
    "variation-selector-17": ("alice\U000e0100", "U+E0100"),
}
GOOD = ["老王", "Zoë", "👨\u200d👩\u200d👧 family", "x" * 32, "bob smith", "\u2764\ufe0f bob", "1\ufe0f\u20e3"]


def new_identities():
    return Identity.objects.exclude(nickname__in=DEMO)


def persona_url(oauth, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in oauth.authorize_params(**params).items())
    return f"/mockwx/authorize?{query}"


@pytest.mark.parametrize(("nickname", "reason"), BAD.values(), ids=BAD.keys())
def test_a_bad_login_hint_is_refused_with_a_reason(oauth, nickname, reason):
    response = oauth.http.get("/mockwx/authorize", oauth.authorize_params(login_hint=nickname, prompt="none"))
    assert response.status_code == 400
    assert "Location" not in response
    page = response.content.decode()
    assert "login_hint" in page
    assert reason in page  # which character, or how long it may be
    assert not new_identities().exists()
    assert not AuthorizationCode.objects.exists()  # nobody signed in, alice least of all


@pytest.mark.parametrize(("nickname", "reason"), BAD.values(), ids=BAD.keys())
def test_the_persona_page_refuses_the_same_nicknames(oauth, nickname, reason):
    response = oauth.http.post(persona_url(oauth), {"decision": "allow", "nickname": nickname})
    assert response.status_code == 400
    assert reason in response.content.decode()
    assert not new_identities().exists()
    assert not AuthorizationCode.objects.exists()


@pytest.mark.parametrize(("nickname", "reason"), BAD.values(), ids=BAD.keys())
def test_a_bad_hint_on_the_persona_page_is_refused_too(oauth, nickname, reason):
    """Without prompt=none the hint only fills in the form, but it must not be cut or kept."""
    response = oauth.http.get("/mockwx/authorize", oauth.authorize_params(login_hint=nickname))
    assert response.status_code == 400


@pytest.mark.parametrize(("nickname", "reason"), BAD.values(), ids=BAD.keys())
def test_the_wechat_dialect_refuses_the_same_hints(oauth, nickname, reason):
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
    assert reason in response.content.decode()
    assert not new_identities().exists()


@pytest.mark.parametrize("nickname", GOOD)
def test_good_nicknames_work_both_ways(oauth, nickname):
    oauth.code_for(nickname)
    assert Identity.objects.filter(nickname=nickname).count() == 1
    Identity.objects.filter(nickname=nickname).delete()
    response = oauth.http.post(persona_url(oauth), {"decision": "allow", "nickname": nickname})
    assert response.status_code == 302
    assert Identity.objects.filter(nickname=nickname).count() == 1


def test_a_hint_is_never_trimmed_into_another_name(oauth):
    """ "alice " and "alice\xa0" signed in as alice: the form stripped them."""
    for hint in ["alice ", "  alice ", "alice\xa0", "\u3000alice"]:
        response = oauth.http.get("/mockwx/authorize", oauth.authorize_params(login_hint=hint, prompt="none"))
        assert response.status_code == 400, hint
    assert not AuthorizationCode.objects.exists()


def test_a_decomposed_hint_names_the_composed_identity(oauth):
    """ "José" typed decomposed (e + U+0301) is the same name as "José" composed (é), by
    Unicode's definition: it signs in as that identity, never as a second "José" beside it."""
    composed, decomposed = "Jos\u00e9", "Jose\u0301"
    first = AuthorizationCode.objects.get(code=oauth.code_for(composed)).identity
    again = AuthorizationCode.objects.get(code=oauth.code_for(decomposed)).identity
    assert again == first
    assert first.nickname == composed
    assert list(new_identities().values_list("nickname", flat=True)) == [composed]


def test_a_decomposed_nickname_is_kept_composed(oauth):
    response = oauth.http.post(persona_url(oauth), {"decision": "allow", "nickname": "Zoe\u0308"})
    assert response.status_code == 302
    code = query_of(response["Location"])["code"]
    assert AuthorizationCode.objects.get(code=code).identity.nickname == "Zo\u00eb"
    oauth.code_for("Zo\u00eb")
    assert list(new_identities().values_list("nickname", flat=True)) == ["Zo\u00eb"]


def test_the_admin_applies_the_same_rule(admin_client):
    response = admin_client.post("/admin/mockwx/identity/add/", {"nickname": "ali\u200bce"})
    assert response.status_code == 200  # the form again, with the error
    assert not Identity.objects.filter(nickname="ali\u200bce").exists()


def test_the_admin_neither_trims_nor_decomposes(admin_client):
    response = admin_client.post("/admin/mockwx/identity/add/", {"nickname": "alice "})
    assert response.status_code == 200  # the form again, with the error
    assert "U+0020" in response.content.decode()
    assert not new_identities().exists()
    response = admin_client.post("/admin/mockwx/identity/add/", {"nickname": "Zoe\u0308"})
    assert response.status_code == 302
    assert list(new_identities().values_list("nickname", flat=True)) == ["Zo\u00eb"]
