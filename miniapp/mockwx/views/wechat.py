"""The WeChat dialect of the mock provider, over the same tables as the OIDC side.

Web-page authorization as WeChat's official accounts do it: GET endpoints with
the app secret in the query string, and `{"errcode", "errmsg"}` errors.
"""

from urllib.parse import urlencode

from django.http import HttpResponseRedirect, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from miniapp.mockwx import services
from miniapp.mockwx.forms import ConsentForm
from miniapp.mockwx.models import WECHAT, Client, Token
from miniapp.mockwx.views import BadHint, bad_hint_page, consent_form, consent_page, error_page, hinted_identity

WECHAT_SCOPES = {"snsapi_base", "snsapi_userinfo"}

# errcodes as WeChat documents them.
INVALID_CREDENTIAL = (40001, "invalid credential, access_token is invalid or not latest")
INVALID_OPENID = (40003, "invalid openid")
INVALID_APPID = (40013, "invalid appid")
INVALID_CODE = (40029, "invalid code")
INVALID_REFRESH_TOKEN = (40030, "invalid refresh_token")
INVALID_SECRET = (40125, "invalid appsecret")
CODE_USED = (40163, "code been used")
MISSING_ACCESS_TOKEN = (41001, "access_token missing")
MISSING_APPID = (41002, "appid missing")
MISSING_SECRET = (41004, "appsecret missing")
MISSING_CODE = (41008, "missing code")
MISSING_REFRESH_TOKEN = (41003, "refresh_token missing")
INVALID_GRANT_TYPE = (40002, "invalid grant_type")
ACCESS_TOKEN_EXPIRED = (42001, "access_token expired")
SCOPE_UNAUTHORIZED = (48001, "api unauthorized")
INVALID_SCOPE = (10005, "invalid scope")
REDIRECT_URI_MISMATCH = (10003, "redirect_uri domain mismatch")


def wx_error(error: tuple[int, str]) -> JsonResponse:
    # WeChat answers errors with HTTP 200 and an errcode in the body.
    code, message = error
    return JsonResponse({"errcode": code, "errmsg": message})


def _client_with_secret(params) -> Client | tuple[int, str]:
    appid, secret = params.get("appid"), params.get("secret")
    if not appid:
        return MISSING_APPID
    if not secret:
        return MISSING_SECRET
    client = services.client_by_id(appid)
    if client is None:
        return INVALID_APPID
    if not client.check_client_secret(secret):
        return INVALID_SECRET
    return client


def _token_json(token: Token) -> JsonResponse:
    return JsonResponse(
        {
            "access_token": token.access_token,
            "expires_in": token.expires_in,
            "refresh_token": token.refresh_token,
            "openid": services.openid_for(client=token.client, identity=token.identity),
            "scope": token.scope,
            "unionid": token.identity.unionid,
        }
    )


@never_cache
@require_http_methods(["GET", "POST"])
def authorize(request):
    params = request.GET
    client = services.client_by_id(params.get("appid", ""))
    if client is None:
        return error_page(request, "appid 参数错误 / unknown appid", code=str(INVALID_APPID[0]))
    redirect_uri = params.get("redirect_uri", "")
    if not client.check_redirect_uri(redirect_uri):
        return error_page(
            request, "redirect_uri 参数错误 / redirect_uri is not registered", code=str(REDIRECT_URI_MISMATCH[0])
        )
    scope = params.get("scope", "")
    if params.get("response_type") != "code" or scope not in WECHAT_SCOPES:
        return error_page(
            request, "scope 参数错误 / scope must be snsapi_base or snsapi_userinfo", code=str(INVALID_SCOPE[0])
        )
    state = params.get("state", "")

    try:
        identity = hinted_identity(request) if request.method == "GET" else None
    except BadHint as error:
        return bad_hint_page(request, error)
    if identity is None:
        if request.method == "GET":
            return consent_page(request, client=client, scope=scope, form=consent_form(request))
        form = ConsentForm(request.POST)
        if not form.is_valid():
            return consent_page(request, client=client, scope=scope, form=form, status=400)
        if not form.allowed:
            # WeChat returns to the page with the state only when the user refuses.
            return HttpResponseRedirect(_with_query(redirect_uri, {"state": state}))
        nickname = form.cleaned_data["nickname"]
        identity = services.identity_get_or_create(nickname=nickname) if nickname else form.cleaned_data["identity"]

    code = services.code_create(
        client=client, identity=identity, redirect_uri=redirect_uri, scope=scope, dialect=WECHAT
    )
    return HttpResponseRedirect(_with_query(redirect_uri, {"code": code.code, "state": state}))


def _with_query(uri: str, params: dict) -> str:
    return f"{uri}{'&' if '?' in uri else '?'}{urlencode(params)}"


@require_GET
def access_token(request):
    params = request.GET
    client = _client_with_secret(params)
    if not isinstance(client, Client):
        return wx_error(client)
    if params.get("grant_type") != "authorization_code":
        return wx_error(INVALID_GRANT_TYPE)
    if not params.get("code"):
        return wx_error(MISSING_CODE)
    try:
        code = services.code_redeem(code=params["code"], client=client, dialect=WECHAT)
    except services.CodeRefused as refused:
        return wx_error(CODE_USED if refused.reason == "used" else INVALID_CODE)
    token = services.token_create(client=client, identity=code.identity, scope=code.scope, dialect=WECHAT, code=code)
    return _token_json(token)


@require_GET
def refresh_token(request):
    params = request.GET
    client = services.client_by_id(params.get("appid", ""))
    if client is None:
        return wx_error(INVALID_APPID if params.get("appid") else MISSING_APPID)
    if params.get("grant_type") != "refresh_token":
        return wx_error(INVALID_GRANT_TYPE)
    if not params.get("refresh_token"):
        return wx_error(MISSING_REFRESH_TOKEN)
    token = services.token_by_refresh(refresh_token=params["refresh_token"], client=client)
    if token is None or token.dialect != WECHAT:
        return wx_error(INVALID_REFRESH_TOKEN)
    return _token_json(services.token_refresh_wechat(token=token))


def _bearer(params) -> Token | tuple[int, str]:
    value = params.get("access_token")
    if not value:
        return MISSING_ACCESS_TOKEN
    token = services.token_by_access(access_token=value, dialect=WECHAT)
    if token is None or token.is_revoked():
        return INVALID_CREDENTIAL
    if token.is_expired():
        return ACCESS_TOKEN_EXPIRED
    if params.get("openid") != services.openid_for(client=token.client, identity=token.identity):
        return INVALID_OPENID
    return token


@require_GET
def userinfo(request):
    token = _bearer(request.GET)
    if not isinstance(token, Token):
        return wx_error(token)
    if "snsapi_userinfo" not in token.scope.split():
        return wx_error(SCOPE_UNAUTHORIZED)
    identity = token.identity
    return JsonResponse(
        {
            "openid": services.openid_for(client=token.client, identity=identity),
            "nickname": identity.nickname,
            "sex": 0,
            "province": "",
            "city": "",
            "country": "",
            "headimgurl": services.avatar_url(identity),
            "privilege": [],
            "unionid": identity.unionid,
        },
        json_dumps_params={"ensure_ascii": False},
    )


@require_GET
def auth(request):
    token = _bearer(request.GET)
    if not isinstance(token, Token):
        return wx_error(token)
    return JsonResponse({"errcode": 0, "errmsg": "ok"})
