"""Ending a user's sessions: `user_sessions_end` signs them out everywhere through Django's own
check (the session auth hash each request compares), and sessions made before
`User.session_version` existed stay signed in."""

import pytest
from django.contrib.auth.base_user import AbstractBaseUser
from django.test import Client

from miniapp.accounts.services import user_sessions_end

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_sessions_from_before_the_version_stay_signed_in(users, settings):
    """At version 0 the hash is Django's own, fallbacks included: nobody is signed out by the migration."""
    settings.SECRET_KEY_FALLBACKS = ["an older secret key, still accepted"]
    bob = users["bob"]
    assert bob.session_version == 0
    assert bob.get_session_auth_hash() == AbstractBaseUser.get_session_auth_hash(bob)
    assert list(bob.get_session_auth_fallback_hash()) == list(AbstractBaseUser.get_session_auth_fallback_hash(bob))


def test_it_signs_the_user_out_everywhere(users, django_capture_on_commit_callbacks):
    phone, laptop, alice = signed_in(users["bob"]), signed_in(users["bob"]), signed_in(users["alice"])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        user_sessions_end(user=users["bob"])
    assert len(callbacks) == 1  # the sign-out that closes bob's sockets on every worker
    assert phone.get("/api/me/").status_code == 403
    assert laptop.get("/api/me/").status_code == 403
    assert alice.get("/api/me/").status_code == 200
    # A new sign-in works.
    assert signed_in(users["bob"]).get("/api/me/").status_code == 200
