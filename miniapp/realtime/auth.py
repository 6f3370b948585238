"""Who is on a socket: the session and its user, read once when the socket opens.

Channels' `AuthMiddlewareStack` does the same, and its `SessionMiddleware` also wraps
the socket's `send` so as to save a session that a consumer changed. Our sockets never
change the session, yet that wrapper inspected it (through lazy objects) for every frame
pushed: 10–15% of the server's time per delivery with 1,000 sockets (py-spy, in
`bench/realtime.py --profile`). This middleware passes the server's own `send` on.
"""

from importlib import import_module

from channels.auth import get_user
from django.conf import settings
from django.http.cookie import parse_cookie


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
