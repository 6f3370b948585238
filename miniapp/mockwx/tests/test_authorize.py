import pytest

from miniapp.mockwx.models import AuthorizationCode, Identity
from tests.fixtures.oauth import REDIRECT_URI, query_of


def test_it_shows_the_consent_page(oauth):
    response = oauth.http.get("/mockwx/authorize", oauth.authorize_params())
    assert response.status_code == 200
    page = response.content.decode()
    assert "testapp" in page
    assert "允许" in page and "拒绝" in page
    assert "你的好友关系" in page
    assert "alice" in page  # seeded identities to pick from


def test_allow_with_an_identity_redirects_with_code_and_state(oauth, identities):
    url = "/mockwx/authorize?" + "&".join(f"{k}={v}" for k, v in oauth.authorize_params().items())
    response = oauth.http.post(url, {"decision": "allow", "identity": identities["bob"].pk})
    assert response.status_code == 302
    assert response["Location"].startswith(REDIRECT_URI + "?")
    params = query_of(response["Location"])
    assert params["state"] == "st-123"
    assert AuthorizationCode.objects.get(code=params["code"]).identity == identities["bob"]


def test_allow_with_a_new_nickname_creates_the_identity(oauth):
    url = "/mockwx/authorize?" + "&".join(f"{k}={v}" for k, v in oauth.authorize_params().items())
    response = oauth.http.post(url, {"decision": "allow", "nickname": "老王"})
    assert response.status_code == 302
    assert Identity.objects.filter(nickname="老王").exists()


def test_deny_returns_access_denied(oauth):
    url = "/mockwx/authorize?" + "&".join(f"{k}={v}" for k, v in oauth.authorize_params().items())
    response = oauth.http.post(url, {"decision": "deny"})
    assert response.status_code == 302
    params = query_of(response["Location"])
    assert params["error"] == "access_denied"
    assert params["state"] == "st-123"
    assert "code" not in params


def test_it_needs_an_identity_to_allow(oauth):
    url = "/mockwx/authorize?" + "&".join(f"{k}={v}" for k, v in oauth.authorize_params().items())
    response = oauth.http.post(url, {"decision": "allow"})
    assert response.status_code == 400
    assert "Pick an identity" in response.content.decode() or "选择" in response.content.decode()


def test_the_consent_form_needs_csrf(identities, settings):
    from django.test import Client

    from miniapp.mockwx import services
    from tests.fixtures.oauth import OAuthApp

    settings.SITE_URL = "http://testserver"
    strict = Client(enforce_csrf_checks=True)
    registered, secret = services.client_register(name="csrfapp", redirect_uris=[REDIRECT_URI])
    app = OAuthApp(strict, registered, secret)
    url = "/mockwx/authorize?" + "&".join(f"{k}={v}" for k, v in app.authorize_params().items())
    assert strict.post(url, {"decision": "allow", "identity": identities["bob"].pk}).status_code == 403


def test_login_hint_with_prompt_none_skips_the_page(oauth, identities):
    code = oauth.code_for("alice")
    assert AuthorizationCode.objects.get(code=code).identity == identities["alice"]


def test_login_hint_creates_a_new_identity(oauth):
    oauth.code_for("newcomer")
    assert Identity.objects.filter(nickname="newcomer").exists()


def test_prompt_none_without_hint_is_login_required(oauth):
    response = oauth.http.get("/mockwx/authorize", oauth.authorize_params(prompt="none"))
    assert response.status_code == 302
    assert query_of(response["Location"])["error"] == "login_required"


@pytest.mark.parametrize("client_id", ["nope", ""])
def test_unknown_client_gets_an_error_page_not_a_redirect(oauth, client_id):
    response = oauth.http.get("/mockwx/authorize", oauth.authorize_params(client_id=client_id))
    assert response.status_code == 400
    assert "Location" not in response
    assert "client" in response.content.decode().lower()


@pytest.mark.parametrize(
    "redirect_uri",
    ["https://evil.example/cb", REDIRECT_URI + "?next=x", REDIRECT_URI + "/", "https://client.example/cb2"],
)
def test_unregistered_or_altered_redirect_uri_gets_an_error_page(oauth, redirect_uri):
    response = oauth.http.get("/mockwx/authorize", oauth.authorize_params(redirect_uri=redirect_uri))
    assert response.status_code == 400
    assert "Location" not in response


def test_it_requires_pkce(oauth):
    response = oauth.http.get(
        "/mockwx/authorize", oauth.authorize_params(code_challenge=None, code_challenge_method=None)
    )
    assert response.status_code == 302
    params = query_of(response["Location"])
    assert params["error"] == "invalid_request"
    assert "PKCE" in params["error_description"]


def test_it_refuses_plain_pkce(oauth):
    response = oauth.http.get(
        "/mockwx/authorize", oauth.authorize_params(code_challenge="a" * 43, code_challenge_method="plain")
    )
    assert query_of(response["Location"])["error"] == "invalid_request"


def test_it_rejects_unsupported_response_types(oauth):
    response = oauth.http.get("/mockwx/authorize", oauth.authorize_params(response_type="token"))
    assert response.status_code == 302
    assert query_of(response["Location"])["error"] == "unsupported_response_type"


def test_it_rejects_put(oauth):
    assert oauth.http.put("/mockwx/authorize").status_code == 405
