"""DRF glue shared by every app's API."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import JsonResponse
from django.template.defaultfilters import filesizeformat
from django.urls import Resolver404, resolve, reverse
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.defaults import page_not_found
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, NotAuthenticated, ParseError, Throttled
from rest_framework.permissions import AllowAny
from rest_framework.views import exception_handler as drf_exception_handler

from miniapp.lib.text import normalized


class BodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


def body_too_large_message() -> str:
    """What a 413 says of a body past DATA_UPLOAD_MAX_MEMORY_SIZE."""
    limit = filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    return _("The request body is too large: at most %(limit)s.") % {"limit": limit}


def _body_refusal(exc: Exception) -> APIException | None:
    """Django's own refusals of a request body, as API errors. Django raises them as DRF
    reads the body (`request.body` past DATA_UPLOAD_MAX_MEMORY_SIZE, a form past
    DATA_UPLOAD_MAX_NUMBER_FIELDS), which DRF's parsers do not catch, so DRF left them to
    Django: an HTML 400 page, or with DEBUG on the debug page."""
    if isinstance(exc, RequestDataTooBig):
        return BodyTooLarge(body_too_large_message())
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return ParseError(_("The request has too many fields or files."))
    return None


def exception_handler(exc, context):
    """DRF's handler, plus a sign-in hint on 403s for anonymous users, JSON errors for
    bodies Django refuses, and on every 429 the hook `API_THROTTLED_HOOK` names."""
    exc = _body_refusal(exc) or exc
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, NotAuthenticated):
        response.data = {
            "detail": _("Sign in first: open the sign-in page, then try again."),
            "login_url": reverse("login"),
        }
    if response is not None and isinstance(exc, Throttled):
        seconds = int(exc.wait or 1)
        response.data = {
            "detail": _("Slow down: you are doing this too often. Try again in %(seconds)d seconds.")
            % {"seconds": seconds},
            "retry_after": seconds,
        }
        if settings.API_THROTTLED_HOOK:
            import_string(settings.API_THROTTLED_HOOK)(request=context["request"], view=context["view"])
    return response


def _not_found_body(request) -> JsonResponse:
    detail = _("Not found.")
    if not request.path.endswith("/"):
        try:
            resolved = resolve(request.path + "/")
        except Resolver404:
            resolved = None
        if resolved is not None and resolved.url_name != "api-not-found":
            detail = _("Not found. The address ends with a slash: %(path)s") % {"path": request.path + "/"}
    return JsonResponse({"detail": detail}, status=404, json_dumps_params={"ensure_ascii": False})


@csrf_exempt  # it changes nothing, and a write to a wrong address is told so, not refused for CSRF
def api_not_found(request):
    """Every URL under /api/ that names no endpoint (`/api/videos/abc/`, `/api/videos/-1/`):
    the API's JSON 404, as a missing object gets. A view and not `handler404`, which DEBUG
    (the settings' default, `make dev`) passes over for its HTML page. A missing final slash is not
    redirected (a redirected POST loses its body): the answer names the address."""
    return _not_found_body(request)


def not_found(request, exception):
    """`handler404`: the 404 page; under /api/ (an Http404 raised outside DRF), the JSON body."""
    if request.path.startswith("/api/"):
        return _not_found_body(request)
    return page_not_found(request, exception)


class TextField(serializers.CharField):
    """A CharField for input that takes text only, and keeps it in Unicode's composed form
    (NFC: lib.text's `normalized`), the form text is stored in, so that canonically equivalent
    strings are one and a length counts what a reader sees. DRF's own CharField also takes a
    JSON number and makes it text, which the schema (`type: string`) does not allow. Form
    fields are always text."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return normalized(super().to_internal_value(data))


# The largest id a row can have: primary keys are 64-bit (BigAutoField) on both databases. A
# larger number is no row's, and SQLite cannot even take it as a parameter (OverflowError).
ID_MAX = 2**63 - 1


class IdField(serializers.IntegerField):
    """A row's id in a request body or query: 1 to ID_MAX (`min_value` and `max_value` may narrow it)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(**kwargs)


class ErrorSerializer(serializers.Serializer):
    """The body of every error answer. Some APIs add fields of their own (`not_friends`, `limit`…)."""

    detail = serializers.CharField()


class ForbiddenErrorSerializer(ErrorSerializer):
    login_url = serializers.CharField(required=False, help_text="Only when signed out: where to sign in.")


class ThrottledErrorSerializer(ErrorSerializer):
    retry_after = serializers.IntegerField(help_text="Seconds until the next try may succeed.")


class UnavailableErrorSerializer(ErrorSerializer):
    code = serializers.CharField(help_text="`unavailable`")
    retry_after = serializers.IntegerField(help_text="Seconds to wait before sending the same request again.")


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema, plus:

    - each API's nested `InputSerializer` / `OutputSerializer` is named after the API
      (`ShareApi.OutputSerializer` → `ShareOutput`), so they do not all collide as "Output"
      and overwrite each other in the schema;
    - integer ids in paths start at 1;
    - every operation lists the error answers it can give (with `exception_handler`'s body),
      unless the view documents that status itself: 400 for input, 403 for permissions and
      CSRF, 404 for an object in the path, 413 for a body too large, 415 for a body of another
      media type, 429 for a rate limit, 503 while the database is out of reach (`lib/unavailable.py`).
    """

    def get_serializer_name(self, serializer, direction):
        name = super().get_serializer_name(serializer, direction)
        owner, _, own = type(serializer).__qualname__.rpartition(".")
        if owner and own in ("InputSerializer", "OutputSerializer", "FilterSerializer"):
            name = owner.removesuffix("Api") + name
        return name

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path" and parameter["schema"].get("type") == "integer":
                parameter["schema"]["minimum"] = 1  # ids in paths are database keys: 1 and up
        responses = operation["responses"]
        for code, serializer, description in self._error_responses(operation):
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(
                    OpenApiResponse(serializer, description=description), str(code)
                )
        for code in ("429", "503"):
            if code in responses:
                responses[code].setdefault("headers", {})["Retry-After"] = {
                    "schema": {"type": "integer"},
                    "description": "Seconds to wait, as in `retry_after`.",
                }
        return operation

    def _error_responses(self, operation: dict):
        where = {parameter["in"] for parameter in operation.get("parameters", [])}
        has_body = "requestBody" in operation
        if has_body or "query" in where:
            yield 400, ErrorSerializer, "The input is not valid."
        unsafe = self.method not in ("GET", "HEAD", "OPTIONS")
        if unsafe or not all(isinstance(p, AllowAny) for p in self.view.get_permissions()):
            yield 403, ForbiddenErrorSerializer, "Signed out, not allowed, or (for writes) no CSRF token."
        if "path" in where:
            yield 404, ErrorSerializer, "No such object, or not one the caller may see."
        if has_body:
            yield 413, ErrorSerializer, "The body is over DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB; files aside)."
            yield 415, ErrorSerializer, "The body is not of a media type listed here."
        if self.view.get_throttles():
            yield 429, ThrottledErrorSerializer, "Rate limited: the `Retry-After` header says for how long."
        yield (
            503,
            UnavailableErrorSerializer,
            "The database is briefly out of reach: nothing was written; send the same request again later.",
        )
