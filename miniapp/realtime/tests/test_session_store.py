"""How a worker finds its sockets' sessions ended with nobody saying so, on each of Django's
session engines: deleted on the server, or expired."""

from datetime import timedelta

import pytest
from django.utils import timezone

from miniapp.realtime.auth import session_expiry, session_store, sessions_alive
from miniapp.realtime.tests.conftest import session_cookie

pytestmark = pytest.mark.django_db

ENGINES = ["db", "cached_db", "cache", "file", "signed_cookies"]


@pytest.fixture(params=ENGINES)
def engine(request, settings, tmp_path):
    settings.SESSION_ENGINE = f"django.contrib.sessions.backends.{request.param}"
    settings.SESSION_FILE_PATH = str(tmp_path)
    return request.param


def test_a_deleted_session_is_not_alive(engine, users):
    kept, deleted = session_cookie(users["bob"]), session_cookie(users["bob"])
    session_store()(deleted).delete()
    # Signed cookies keep nothing on the server: nothing there to delete.
    assert sessions_alive({kept, deleted}) == ({kept, deleted} if engine == "signed_cookies" else {kept})
    assert sessions_alive(set()) == set()


def test_an_expired_session_is_not_alive(engine, users, settings):
    settings.SESSION_COOKIE_AGE = 1
    key = session_cookie(users["bob"])
    expires = session_expiry(key)
    assert timezone.now() < expires <= timezone.now() + timedelta(seconds=1)
    if engine not in ("db", "cached_db"):
        return  # the cache and the files expire by themselves, signed cookies by their age
    session_store().get_model_class().objects.filter(session_key=key).update(expire_date=timezone.now())
    assert sessions_alive({key}) == set()


def test_a_database_session_expires_when_the_database_says(users, settings):
    """Not `get_expiry_date()`, which counts from now: from the session's last save."""
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    key = session_cookie(users["bob"])
    then = timezone.now() + timedelta(minutes=5)
    session_store().get_model_class().objects.filter(session_key=key).update(expire_date=then)
    assert session_expiry(key) == then
