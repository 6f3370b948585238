"""The database out of reach answers 503 Service Unavailable, not a 500.

A write runs in one transaction, so when the database goes away mid-request nothing
is half-written: the client is told to try again (`Retry-After`), and the same
request later does the whole thing once.
"""

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.defaults import server_error as django_server_error

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5


def unavailable_body() -> dict:
    """The JSON of a 503 (with `Retry-After: RETRY_AFTER_SECONDS`)."""
    message = _("The service is briefly unavailable. Nothing was changed: try again in a few seconds.")
    return {"detail": message, "code": "unavailable", "retry_after": RETRY_AFTER_SECONDS}


def unavailable_response(request):
    if request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", ""):
        response = JsonResponse(unavailable_body(), status=503)
    else:
        # A page of its own: base.html would ask the database who is signed in.
        message = unavailable_body()["detail"]
        response = render(request, "503.html", {"message": message}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def database_unreachable(exception: BaseException | None) -> bool:
    return isinstance(exception, (OperationalError, InterfaceError))


class DatabaseUnavailableMiddleware:
    """Turns a database error raised in a view into a 503."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not database_unreachable(exception):
            return None
        log.error("database unavailable during %s %s: %s", request.method, request.path, exception)
        return unavailable_response(request)


def server_error(request):
    """`handler500`: a database error raised outside a view (e.g. loading the session) is a 503 too."""
    if database_unreachable(sys.exc_info()[1]):
        return unavailable_response(request)
    return django_server_error(request)
