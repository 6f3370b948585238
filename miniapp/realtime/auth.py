"""Who is on a socket: the session and its user, read once when the socket opens; and whether
the page that opened it may (the Origin check).

Channels' `AuthMiddlewareStack` does the first, and its `SessionMiddleware` also wraps
the socket's `send` so as to save a session that a consumer changed. Our sockets never
change the session, yet that wrapper inspected it (through lazy objects) for every frame
pushed: 10–15% of the server's time per delivery with 1,000 sockets (py-spy, in
`bench/realtime.py --profile`). This middleware passes the server's own `send` on.
"""

import io
from importlib import import_module

from channels.auth import get_user
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.http.cookie import parse_cookie
from django.middleware.csrf import CsrfViewMiddleware


class SocketUserMiddleware:
    """Puts `session` and `user` (AnonymousUser when signed out) into the scope."""

    def __init__(self, inner):
        self.inner = inner
        self.session_store = import_module(settings.SESSION_ENGINE).SessionStore

    async def __call__(self, scope, receive, send):
        headers = dict(scope.get("headers", []))
        cookies = parse_cookie(headers.get(b"cookie", b"").decode("latin-1"))
        session = self.session_store(cookies.get(settings.SESSION_COOKIE_NAME))
        scope = dict(scope, cookies=cookies, session=session)
        scope["user"] = await get_user(scope)
        return await self.inner(scope, receive, send)


def origin_allowed(scope) -> bool:
    """Django's CSRF Origin check, on the socket's handshake: the Origin must be the socket's
    own origin (scheme, host and port; ws is http and wss https, or what SECURE_PROXY_SSL_HEADER
    says; the Host header validated against ALLOWED_HOSTS), or one of CSRF_TRUSTED_ORIGINS
    (with Django's `https://*.example.com` subdomain rule). A socket without an Origin is
    refused: browsers always send one.

    Django's own code decides (`CsrfViewMiddleware._origin_verified`, on Django's own request
    for the handshake's scope), so a socket and an HTTP write agree on every Origin."""
    scheme = "https" if scope.get("scheme") == "wss" else "http"
    request = ASGIRequest(dict(scope, type="http", method="GET", scheme=scheme), io.BytesIO())
    if "HTTP_ORIGIN" not in request.META:
        return False
    # A middleware of its own each time: it reads CSRF_TRUSTED_ORIGINS once per instance.
    return CsrfViewMiddleware(lambda request: None)._origin_verified(request)
