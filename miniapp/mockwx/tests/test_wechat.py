import pytest

from miniapp.mockwx import services
from miniapp.mockwx.models import Token
from tests.fixtures.oauth import REDIRECT_URI, query_of


@pytest.fixture
def wx(oauth):
    return oauth


def wx_code(wx, nickname="alice", scope="snsapi_userinfo") -> str:
    response = wx.http.get(
        "/mockwx/connect/oauth2/authorize",
        {
            "appid": wx.client.client_id,
            "redirect_uri": REDIRECT_URI,
            "response_type": "code",
            "scope": scope,
            "state": "wx-state",
            "login_hint": nickname,
            "prompt": "none",
        },
    )
    assert response.status_code == 302, response.content
    params = query_of(response["Location"])
    assert params["state"] == "wx-state"
    return params["code"]


def wx_token(wx, code, secret=None, **extra):
    params = {"appid": wx.client.client_id, "secret": secret or wx.secret, "code": code}
    params["grant_type"] = "authorization_code"
    params.update(extra)
    return wx.http.get("/mockwx/sns/oauth2/access_token", params).json()


def test_it_exchanges_a_code(wx, identities):
    body = wx_token(wx, wx_code(wx))
    assert body["openid"] == services.openid_for(client=wx.client, identity=identities["alice"])
    assert body["unionid"] == identities["alice"].unionid
    assert body["expires_in"] == 7200
    assert body["scope"] == "snsapi_userinfo"
    assert body["access_token"] and body["refresh_token"]


def test_a_used_code_is_40163_and_revokes(wx):
    code = wx_code(wx)
    first = wx_token(wx, code)
    assert wx_token(wx, code) == {"errcode": 40163, "errmsg": "code been used"}
    assert Token.objects.get(access_token=first["access_token"]).revoked


def test_bad_requests_get_their_errcodes(wx):
    code = wx_code(wx)
    assert wx_token(wx, "nope")["errcode"] == 40029
    assert wx_token(wx, code, secret="wrong")["errcode"] == 40125
    assert wx_token(wx, code, appid="wxunknown")["errcode"] == 40013
    assert wx_token(wx, code, grant_type="password")["errcode"] == 40002
    assert wx_token(wx, "")["errcode"] == 41008
    assert wx.http.get("/mockwx/sns/oauth2/access_token").json()["errcode"] == 41002


def test_an_oidc_code_does_not_work_here(wx):
    assert wx_token(wx, wx.code_for("alice"))["errcode"] == 40029


def test_userinfo(wx, identities):
    body = wx_token(wx, wx_code(wx))
    info = wx.http.get(
        "/mockwx/sns/userinfo", {"access_token": body["access_token"], "openid": body["openid"], "lang": "zh_CN"}
    ).json()
    assert info["nickname"] == "alice"
    assert info["openid"] == body["openid"]
    assert info["unionid"] == identities["alice"].unionid
    assert info["headimgurl"].endswith(".svg")


def test_userinfo_errors(wx):
    body = wx_token(wx, wx_code(wx))
    get = lambda **p: wx.http.get("/mockwx/sns/userinfo", p).json()["errcode"]  # noqa: E731
    assert get(openid=body["openid"]) == 41001
    assert get(access_token="nope", openid=body["openid"]) == 40001
    assert get(access_token=body["access_token"], openid="oSomeoneElse") == 40003
    Token.objects.filter(access_token=body["access_token"]).update(issued_at=0)
    assert get(access_token=body["access_token"], openid=body["openid"]) == 42001


def test_snsapi_base_cannot_read_userinfo(wx):
    body = wx_token(wx, wx_code(wx, scope="snsapi_base"))
    info = wx.http.get("/mockwx/sns/userinfo", {"access_token": body["access_token"], "openid": body["openid"]})
    assert info.json()["errcode"] == 48001


def test_refresh_renews_the_access_token(wx):
    body = wx_token(wx, wx_code(wx))
    params = {"appid": wx.client.client_id, "grant_type": "refresh_token", "refresh_token": body["refresh_token"]}
    fresh = wx.http.get("/mockwx/sns/oauth2/refresh_token", params).json()
    assert fresh["access_token"] != body["access_token"]
    assert fresh["refresh_token"] == body["refresh_token"]
    assert fresh["openid"] == body["openid"]
    stale = wx.http.get("/mockwx/sns/auth", {"access_token": body["access_token"], "openid": body["openid"]})
    assert stale.json()["errcode"] == 40001


def test_refresh_errors(wx):
    params = {"appid": wx.client.client_id, "grant_type": "refresh_token", "refresh_token": "nope"}
    assert wx.http.get("/mockwx/sns/oauth2/refresh_token", params).json()["errcode"] == 40030
    params["appid"] = "wxunknown"
    assert wx.http.get("/mockwx/sns/oauth2/refresh_token", params).json()["errcode"] == 40013


def test_auth_checks_a_token(wx):
    body = wx_token(wx, wx_code(wx))
    ok = wx.http.get("/mockwx/sns/auth", {"access_token": body["access_token"], "openid": body["openid"]})
    assert ok.json() == {"errcode": 0, "errmsg": "ok"}


def test_authorize_shows_the_consent_page(wx):
    response = wx.http.get(
        "/mockwx/connect/oauth2/authorize",
        {
            "appid": wx.client.client_id,
            "redirect_uri": REDIRECT_URI,
            "response_type": "code",
            "scope": "snsapi_userinfo",
        },
    )
    assert response.status_code == 200
    assert "允许" in response.content.decode()


def test_deny_returns_with_the_state_only(wx):
    url = (
        f"/mockwx/connect/oauth2/authorize?appid={wx.client.client_id}&redirect_uri={REDIRECT_URI}"
        "&response_type=code&scope=snsapi_userinfo&state=s1"
    )
    response = wx.http.post(url, {"decision": "deny"})
    assert response.status_code == 302
    assert query_of(response["Location"]) == {"state": "s1"}


@pytest.mark.parametrize(
    ("appid", "redirect_uri", "scope"),
    [
        ("wxunknown", REDIRECT_URI, "snsapi_base"),
        (None, "https://evil.example/cb", "snsapi_base"),
        (None, REDIRECT_URI, "snsapi_everything"),
    ],
)
def test_authorize_errors_are_pages_not_redirects(wx, appid, redirect_uri, scope):
    response = wx.http.get(
        "/mockwx/connect/oauth2/authorize",
        {"appid": appid or wx.client.client_id, "redirect_uri": redirect_uri, "response_type": "code", "scope": scope},
    )
    assert response.status_code == 400
    assert "Location" not in response
