"""Which signed-out browser is watching, for counting its views once a day.

The pages that play videos give each browser an id of its own, in a cookie signed with
SECRET_KEY (Django's signing): a view report from a signed-out browser counts only with
one. It used to be the CSRF cookie, whose value the client chooses: every made-up value
counted as another viewer. No session is made for it (a view must not grow the session
table). An id costs a page load, and VIEW_RATE per address still bounds what one address
can report.
"""

import secrets
from functools import wraps

from django.conf import settings

COOKIE = "visitor"
SALT = "miniapp.engagement.visitor"
MAX_AGE = 365 * 24 * 3600


def visitor_id(request) -> str | None:
    """The id this server gave the browser, if its cookie carries one, signed and not older than a year."""
    return request.get_signed_cookie(COOKIE, default=None, salt=SALT, max_age=MAX_AGE)


def gives_visitor_id(view):
    """Decorate a page that plays videos: a browser without an id gets one with the page."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if visitor_id(request) is None:
            response.set_signed_cookie(
                COOKIE,
                secrets.token_urlsafe(16),
                salt=SALT,
                max_age=MAX_AGE,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response

    return wrapper
