"""How a worker finds its sockets' sessions ended with nobody saying so, on each of Django's
session engines: deleted on the server, or expired."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from miniapp.realtime import auth
from miniapp.realtime.auth import session_expiry, session_store, session_users, sessions_signed_in
from tests.fixtures.personas import session_cookie

pytestmark = pytest.mark.django_db

ENGINES = ["db", "cached_db", "cache", "file", "signed_cookies"]


@pytest.fixture(params=ENGINES)
def engine(request, settings, tmp_path):
    settings.SESSION_ENGINE = f"django.contrib.sessions.backends.{request.param}"
    settings.SESSION_FILE_PATH = str(tmp_path)
    return request.param


def test_a_deleted_session_signs_nobody_in(engine, users):
    kept, deleted = session_cookie(users["bob"]), session_cookie(users["bob"])
    session_store()(deleted).delete()
    bob = users["bob"].pk
    # Signed cookies keep nothing on the server: nothing there to delete.
    expected = {kept: bob, deleted: bob} if engine == "signed_cookies" else {kept: bob}
    assert sessions_signed_in({kept, deleted}) == expected
    assert sessions_signed_in(set()) == {}


def test_an_expired_session_signs_nobody_in(engine, users, settings):
    settings.SESSION_COOKIE_AGE = 1
    key = session_cookie(users["bob"])
    expires = session_expiry(key)
    assert timezone.now() < expires <= timezone.now() + timedelta(seconds=1)
    if engine not in ("db", "cached_db"):
        return  # the cache and the files expire by themselves, signed cookies by their age
    session_store().get_model_class().objects.filter(session_key=key).update(expire_date=timezone.now())
    assert sessions_signed_in({key}) == {}


def test_a_database_session_expires_when_the_database_says(users, settings):
    """Not `get_expiry_date()`, which counts from now: from the session's last save."""
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    key = session_cookie(users["bob"])
    then = timezone.now() + timedelta(minutes=5)
    session_store().get_model_class().objects.filter(session_key=key).update(expire_date=then)
    assert session_expiry(key) == then


def django_get_user(session_key: str):
    """What Django's own check finds for a request on this session (it may flush the session)."""
    request = HttpRequest()
    request.session = session_store()(session_key)
    return get_user(request)


def deactivate(user, **kwargs):
    type(user).objects.filter(pk=user.pk).update(is_active=False)


def replace_password(user, **kwargs):
    type(user).objects.filter(pk=user.pk).update(password="pbkdf2_sha256$1$salt$replaced")


def raise_session_version(user, **kwargs):
    type(user).objects.filter(pk=user.pk).update(session_version=F("session_version") + 1)


def delete_user(user, **kwargs):
    user.delete()


def drop_backend(user, *, settings):
    settings.AUTHENTICATION_BACKENDS = ["allauth.account.auth_backends.AuthenticationBackend"]


def rotate_secret(user, *, settings):
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a new secret key for this test, long enough to be one"


def retire_secret(user, *, settings):
    settings.SECRET_KEY = "a new secret key for this test, long enough to be one"


CHANGES = [deactivate, replace_password, raise_session_version, delete_user, drop_backend, rotate_secret, retire_secret]


@pytest.mark.parametrize("change", CHANGES, ids=[change.__name__ for change in CHANGES])
def test_the_sweep_signs_in_whom_django_would(change, users, settings):
    """`sessions_signed_in` is Django's `get_user`, in bulk: after each way a sign-in can end
    (or survive: a SECRET_KEY rotated with the old one kept as a fallback) both agree."""
    bob, carol = users["bob"], users["carol"]
    bob_key, carol_key = session_cookie(bob), session_cookie(carol)
    anonymous = session_store()()
    anonymous["seen"] = True
    anonymous.create()

    change(bob, settings=settings)

    found = sessions_signed_in({bob_key, carol_key, anonymous.session_key})
    for key in (bob_key, carol_key):
        django_user = django_get_user(key)
        assert found.get(key) == (django_user.pk if django_user.is_authenticated else None), key
    assert anonymous.session_key not in found
    assert found.get(carol_key) == (carol.pk if change not in (drop_backend, retire_secret) else None)
    assert (bob_key in found) is (change is rotate_secret)


def test_the_users_found_are_the_users_the_orm_reads(users):
    """`session_users` reads the users in plain SQL: each field as the ORM gives it (an aware
    datetime, a bool from SQLite's 0 or 1, ...)."""
    bob = users["bob"]
    type(bob).objects.filter(pk=bob.pk).update(banned_until=timezone.now() + timedelta(days=1), share_likes=False)
    key = session_cookie(bob)
    found = session_users({key})[key]
    read = type(bob).objects.get(pk=bob.pk)
    for field in type(bob)._meta.concrete_fields:
        ours, orm = getattr(found, field.attname), getattr(read, field.attname)
        assert (ours, type(ours)) == (orm, type(orm)), field.name
    assert found._state.db == "default" and not found._state.adding


def test_more_users_than_a_statement_takes_are_read_in_parts(users, django_user_model):
    """A worker's sweep checks every local socket's session at once: past SQLite's limit on a
    statement's parameters the sessions and the users are read in parts."""
    many = django_user_model.objects.bulk_create(django_user_model(username=f"many{n}") for n in range(1200))
    keys = {session_cookie(user) for user in many[:3]} | {session_cookie(users["bob"])}
    assert len(auth._users({user.pk for user in many})) == 1200
    assert set(sessions_signed_in(keys).values()) == {*(user.pk for user in many[:3]), users["bob"].pk}
