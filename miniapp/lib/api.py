"""DRF glue shared by every app's API."""

from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework.exceptions import NotAuthenticated, Throttled
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    """DRF's handler, plus a sign-in hint on 403s for anonymous users."""
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
    return response


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema, naming each API's nested `InputSerializer` / `OutputSerializer`
    after the API (`ShareApi.OutputSerializer` → `ShareOutput`), so they do not all collide
    as "Output" and overwrite each other in the schema."""

    def get_serializer_name(self, serializer, direction):
        name = super().get_serializer_name(serializer, direction)
        owner, _, own = type(serializer).__qualname__.rpartition(".")
        if owner and own in ("InputSerializer", "OutputSerializer", "FilterSerializer"):
            name = owner.removesuffix("Api") + name
        return name
