"""Who is on a socket: the session and its user, read when the socket opens and again whenever
the session may have ended; and whether the page that opened it may (the Origin check).

Channels' `AuthMiddlewareStack` does the first, and its `SessionMiddleware` also wraps
the socket's `send` so as to save a session that a consumer changed. Our sockets never
change the session, yet that wrapper inspected it (through lazy objects) for every frame
pushed, so every friend a like reaches paid for it (py-spy, in `bench/realtime.py
--profile`; bench/RESULTS.md). This middleware passes the server's own `send` on.
"""

import hashlib
import io
from collections.abc import Iterator
from datetime import datetime
from importlib import import_module

from channels.auth import get_user
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model, load_backend
from django.core.exceptions import ValidationError
from django.core.handlers.asgi import ASGIRequest
from django.db import connections, router
from django.http.cookie import parse_cookie
from django.middleware.csrf import CsrfViewMiddleware
from django.utils import timezone
from django.utils.crypto import constant_time_compare


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
    would find (`sessions_signed_in`, the check each worker's sweep runs too), in one thread hop."""
    return await database_sync_to_async(_session_state)(session_key)


def _session_state(session_key: str) -> tuple[int | None, datetime | None]:
    user_id = sessions_signed_in({session_key}).get(session_key)
    return (user_id, session_expiry(session_key)) if user_id is not None else (None, None)


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


def sessions_signed_in(session_keys: set[str]) -> dict[str, object]:
    """{session key: user pk} of `session_users`."""
    return {key: user.pk for key, user in session_users(session_keys).items()}


def session_users(session_keys: set[str]) -> dict[str, object]:
    """Whom each of `session_keys` still signs in: {session key: user}, for the sessions that
    would sign a request in now. The check is Django's own (`django.contrib.auth.get_user`), in
    bulk and without changing any session: the session is kept and unexpired, names a backend
    still in AUTHENTICATION_BACKENDS, its user exists and that backend still lets them sign in
    (ModelBackend: `is_active`), and its auth hash still matches the user's (a password change,
    `session_version`, SECRET_KEY rotated past SECRET_KEY_FALLBACKS). A session deleted on the
    server (flushed, `clearsessions`) is missing, so it signs nobody in."""
    claims = {}  # session key -> (user pk, backend path, auth hash)
    for key, data in _session_data(session_keys).items():
        try:
            user_pk = get_user_model()._meta.pk.to_python(data[SESSION_KEY])
            claims[key] = (user_pk, data[BACKEND_SESSION_KEY], data.get(HASH_SESSION_KEY))
        except (KeyError, ValidationError):
            continue  # an anonymous session, or one that never signed anyone in
    users = _users_signed_in({(pk, backend) for pk, backend, _ in claims.values()})
    signed_in = {}
    for key, (user_pk, backend_path, session_hash) in claims.items():
        user = users.get((user_pk, backend_path))
        if user is not None and session_hash and _hash_matches(user, session_hash):
            signed_in[key] = user
    return signed_in


def _session_data(session_keys: set[str]) -> dict[str, dict]:
    """The decoded data of the sessions among `session_keys` that are kept and unexpired.

    Where sessions are kept in the database, one plain statement reads them: building the
    ORM's query was most of the cost of checking a few sessions (a live room's tap commit checks
    every batch's, bench/live_room.py), and the statement is the one the ORM would make."""
    store = session_store()
    if not hasattr(store, "get_model_class"):  # cache, file, signed cookies: one read each
        return {key: data for key in session_keys if (data := store(key).load())}
    model, found = store.get_model_class(), {}
    database = connections[router.db_for_read(model)]
    name, field = database.ops.quote_name, model._meta.get_field
    key, data, expiry = (name(field(each).column) for each in ("session_key", "session_data", "expire_date"))
    now = database.ops.adapt_datetimefield_value(timezone.now())
    for chunk, marks in _in_parts(session_keys):
        with database.cursor() as cursor:
            cursor.execute(
                f"SELECT {key}, {data} FROM {name(model._meta.db_table)} WHERE {key} IN ({marks}) AND {expiry} > %s",
                [*chunk, now],
            )
            rows = cursor.fetchall()
        for session_key, session_data in rows:
            found[session_key] = store().decode(session_data)
    return found


def _in_parts(values) -> Iterator[tuple[list, str]]:
    """`values` in order, in parts of at most 500 (SQLite's limit on a statement's parameters),
    each with its placeholders for an `IN (...)`."""
    ordered = sorted(values)
    for start in range(0, len(ordered), 500):
        part = ordered[start : start + 500]
        yield part, ", ".join(["%s"] * len(part))


def _users_signed_in(claims: set[tuple]) -> dict[tuple, object]:
    """{(user pk, backend path): user} for the users each backend still signs in: one query for
    ModelBackend and its subclasses (allauth's), `backend.get_user` for any other backend. The
    query is a raw one of the user model's own columns (what `in_bulk` reads, at half its cost:
    the user model's manager is Django's `UserManager`, which filters nothing)."""
    from django.contrib.auth.backends import ModelBackend  # it loads the user model: not at import

    found = {}
    by_backend = {}
    for user_pk, backend_path in claims:
        if backend_path in settings.AUTHENTICATION_BACKENDS:
            by_backend.setdefault(backend_path, set()).add(user_pk)
    for backend_path, user_pks in by_backend.items():
        backend = load_backend(backend_path)
        if isinstance(backend, ModelBackend):
            allowed = {pk: user for pk, user in _users(user_pks).items() if backend.user_can_authenticate(user)}
        else:
            allowed = {pk: backend.get_user(pk) for pk in user_pks}
        found.update({(pk, backend_path): user for pk, user in allowed.items() if user is not None})
    return found


def _users(pks: set) -> dict:
    model = get_user_model()
    name, meta = connections[router.db_for_read(model)].ops.quote_name, model._meta
    columns = ", ".join(name(field.column) for field in meta.concrete_fields)
    found = {}
    for chunk, marks in _in_parts(pks):
        query = f"SELECT {columns} FROM {name(meta.db_table)} WHERE {name(meta.pk.column)} IN ({marks})"
        found.update((user.pk, user) for user in model._default_manager.raw(query, chunk))
    return found


def _hash_matches(user, session_hash: str) -> bool:
    if not hasattr(user, "get_session_auth_hash"):
        return True  # as Django: a user model without the hash has nothing to check
    hashes = [user.get_session_auth_hash(), *user.get_session_auth_fallback_hash()]
    return any(constant_time_compare(session_hash, expected) for expected in hashes)
