"""OpenID Connect endpoints of the mock provider (the WeChat dialect is in `wechat` beside it)."""

from authlib.oauth2 import OAuth2Error
from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from miniapp.mockwx import services
from miniapp.mockwx.forms import ConsentForm, HintForm
from miniapp.mockwx.groups import group_avatar_svg, group_by_key, groups_claims
from miniapp.mockwx.models import Identity
from miniapp.mockwx.server import require_oauth, server

SCOPE_LABELS = {
    "openid": _("Know who you are (your OpenID)"),
    "profile": _("Your nickname and avatar"),
    "friends": _("Your friend list"),
    "groups": _("The groups you are in, and their members"),
    "snsapi_base": _("Know who you are (your OpenID)"),
    "snsapi_userinfo": _("Your nickname and avatar"),
}


def error_page(request, message: str, *, code: str = "", status: int = 400) -> HttpResponse:
    """The provider's own error page, for requests that must not be redirected back."""
    return render(request, "mockwx/error.html", {"message": message, "code": code}, status=status)


class BadHint(Exception):
    """`login_hint` is not a nickname one could type on the persona page."""

    def __init__(self, form: HintForm):
        self.reason = " ".join(form.errors["login_hint"])
        super().__init__(self.reason)


def login_hint(request) -> str:
    """The `login_hint` parameter as a nickname ("" if none); BadHint if it is not one."""
    form = HintForm({"login_hint": request.GET.get("login_hint", "")})
    if not form.is_valid():
        raise BadHint(form)
    return form.cleaned_data["login_hint"]


def hinted_identity(request) -> Identity | None:
    """With `prompt=none`, `login_hint` names the identity (created if new): mock mode only."""
    hint = login_hint(request)
    if request.GET.get("prompt") != "none" or not hint or not settings.MOCK_OAUTH_ENABLED:
        return None
    return services.identity_get_or_create(nickname=hint)


def bad_hint_page(request, error: BadHint) -> HttpResponse:
    message = _("The login_hint parameter is not a nickname that can be used: %(reason)s") % {"reason": error.reason}
    return error_page(request, message, code="invalid_request")


def consent_form(request) -> ConsentForm:
    return ConsentForm(initial={"nickname": login_hint(request)})


def consent_page(request, *, client, scope: str, form: ConsentForm, status: int = 200) -> HttpResponse:
    context = {
        "client": client,
        "scopes": [SCOPE_LABELS.get(s, s) for s in dict.fromkeys(scope.split())],
        "identities": Identity.objects.order_by("pk")[:20],
        "form": form,
    }
    return render(request, "mockwx/consent.html", context, status=status)


@require_GET
def discovery(request):
    return JsonResponse(services.discovery())


@require_GET
def jwks(request):
    services.signing_key()  # make sure one exists before the first id_token
    return JsonResponse(services.jwks())


@never_cache
@require_http_methods(["GET", "POST"])
def authorize(request):
    try:
        end_user = hinted_identity(request) if request.method == "GET" else None
    except BadHint as error:
        return bad_hint_page(request, error)
    try:
        grant = server.get_consent_grant(request, end_user=end_user)
    except OAuth2Error as error:
        if error.redirect_uri:
            return server.handle_error_response(request, error)
        return error_page(request, error.get_error_description() or error.error, code=error.error)

    if request.method == "GET":
        if end_user is not None:
            return server.create_authorization_response(request, grant_user=end_user, grant=grant)
        return consent_page(request, client=grant.client, scope=grant.request.scope, form=consent_form(request))

    form = ConsentForm(request.POST)
    if not form.is_valid():
        return consent_page(request, client=grant.client, scope=grant.request.scope, form=form, status=400)
    identity = None
    if form.allowed:
        nickname = form.cleaned_data["nickname"]
        identity = services.identity_get_or_create(nickname=nickname) if nickname else form.cleaned_data["identity"]
    return server.create_authorization_response(request, grant_user=identity, grant=grant)


@csrf_exempt
@require_POST
def token(request):
    return server.create_token_response(request)


@csrf_exempt
@require_http_methods(["GET", "POST"])
@require_oauth("openid")
def userinfo(request):
    token = request.oauth_token
    claims = {"sub": services.openid_for(client=token.client, identity=token.identity)}
    if "profile" in token.scope.split():
        claims = services.profile_claims(client=token.client, identity=token.identity)
    return JsonResponse(claims)


@require_GET
@require_oauth("friends")
def friends(request):
    token = request.oauth_token
    return JsonResponse({"friends": services.friends_claims(client=token.client, identity=token.identity)})


@require_GET
@require_oauth("groups")
def groups(request):
    """`{"groups": [{"gid", "name", "avatar", "members": [{"sub", "nickname", "picture"}]}]}`."""
    token = request.oauth_token
    return JsonResponse({"groups": groups_claims(client=token.client, identity=token.identity)})


@require_GET
def group_avatar(request, key: str):
    group = group_by_key(key)
    if group is None:
        raise Http404
    return _svg(group_avatar_svg(group))


@require_GET
def avatar(request, unionid: str):
    identity = services.identity_by_unionid(unionid)
    if identity is None:
        raise Http404
    return _svg(services.avatar_svg(identity))


def _svg(svg: str) -> HttpResponse:
    """An avatar: it changes only with a name, so browsers and caches keep it a day."""
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=86400"
    return response
