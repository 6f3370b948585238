"""Who is on a socket: the session and its user, read when the socket opens and again whenever
the session may have ended; and whether the page that opened it may (the Origin check).

Channels' `AuthMiddlewareStack` does the first, and its `SessionMiddleware` also wraps
the socket's `send` so as to save a session that a consumer changed. Our sockets never
change the session, yet that wrapper inspected it (through lazy objects) for every frame
pushed: 10–15% of the server's time per delivery with 1,000 sockets (py-spy, in
`bench/realtime.py --profile`). This middleware passes the server's own `send` on.
"""

import hashlib
import io
from datetime import datetime
from importlib import import_module

from channels.auth import get_user
from channels.db import database_sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.http.cookie import parse_cookie
from django.middleware.csrf import CsrfViewMiddleware
from django.utils import timezone


def session_store():
    return import_module(settings.SESSION_ENGINE).SessionStore


class SocketUserMiddleware:
    """Puts `session` and `user` (AnonymousUser when signed out) into the scope."""

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        headers = dict(scope.get("headers", []))
        cookies = parse_cookie(headers.get(b"cookie", b"").decode("latin-1"))
        session = session_store()(cookies.get(settings.SESSION_COOKIE_NAME))
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


def session_digest(session_key: str) -> str:
    """How a sign-out names a session to every worker: not by its key, which signs in."""
    return hashlib.sha256(session_key.encode()).hexdigest()


async def session_state(session_key: str) -> tuple[int | None, datetime | None]:
    """Whom the session signs in now (None: nobody) and until when: what a new socket on it
    would find (the middleware's `get_user`: the session is there and unexpired, its user
    exists and may sign in, and the session's hash still matches the user's)."""
    user = await get_user({"session": session_store()(session_key)})
    if not user.is_authenticated:
        return None, None
    return user.pk, await database_sync_to_async(session_expiry)(session_key)


def session_expiry(session_key: str) -> datetime | None:
    """When the session expires: the database's own expiry where sessions are kept there,
    else what the session says (at the latest: the cache may drop it sooner)."""
    store = session_store()
    if hasattr(store, "get_model_class"):  # db, cached_db
        return (
            store.get_model_class()
            .objects.filter(session_key=session_key)
            .values_list("expire_date", flat=True)
            .first()
        )
    return store(session_key).get_expiry_date()


def sessions_alive(session_keys: set[str]) -> set[str]:
    """The keys among `session_keys` whose sessions are still kept and unexpired: a session
    deleted on the server (flushed, `clearsessions`, removed in the shell) is not."""
    store = session_store()
    if not hasattr(store, "get_model_class"):
        return {key for key in session_keys if store(key).load()}
    model, keys, alive = store.get_model_class(), sorted(session_keys), set()
    now = timezone.now()
    for start in range(0, len(keys), 500):  # SQLite's limit on a statement's parameters
        found = model.objects.filter(session_key__in=keys[start : start + 500], expire_date__gt=now)
        alive.update(found.values_list("session_key", flat=True))
    return alive
