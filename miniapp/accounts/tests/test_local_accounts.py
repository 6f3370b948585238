"""Sign-in is through the provider only: no local-account page of allauth answers.

allauth's own URL modules are walked as allauth would mount them with its local accounts on
(`SOCIALACCOUNT_ONLY` off, sign-in by code, password reset by code or by key), so a
page a later allauth adds, or a setting that turns one back on, is caught too.
"""

import re
import runpy

import pytest
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = [
    pytest.mark.django_db,
    # runpy warns that it runs a module already imported: a fresh copy is the point.
    pytest.mark.filterwarnings("ignore:.*found in sys.modules after import:RuntimeWarning"),
]

# What the sign-in needs of allauth: the provider's callback. (/login/ starts the flow.)
CALLBACK = "/accounts/oidc/wx/login/callback/"

LOCAL_ACCOUNT_SETTINGS = [
    {"SOCIALACCOUNT_ONLY": False, "ACCOUNT_LOGIN_BY_CODE_ENABLED": True},
    {
        "SOCIALACCOUNT_ONLY": False,
        "ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED": True,
        "ACCOUNT_SIGNUP_FIELDS": ["username*", "phone*", "password1*"],
    },
]


def _sample_path(route: str) -> str:
    """A concrete path for one URL pattern: each parameter gets a value it accepts."""
    route = route.removeprefix("^").removesuffix("$").replace("\\", "")
    route = re.sub(r"\(\?P<\w+>[^)]*\)", "x1", route)
    return re.sub(r"<(?:\w+:)?\w+>", "x1", route)


def _walk(patterns, prefix: str = ""):
    for pattern in patterns:
        route = prefix + _sample_path(str(pattern.pattern))
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern


def allauth_local_paths() -> set[str]:
    """Every page allauth's account and socialaccount URL modules define, under /accounts/."""
    found = set()
    for overrides in LOCAL_ACCOUNT_SETTINGS:
        with override_settings(**overrides):
            modules = {
                "": runpy.run_module("allauth.account.urls")["urlpatterns"],
                "3rdparty/": runpy.run_module("allauth.socialaccount.urls")["urlpatterns"],
            }
            # allauth.urls itself adds redirects from older addresses.
            legacy = [p for p in runpy.run_module("allauth.urls")["urlpatterns"] if isinstance(p, URLPattern)]
        for prefix, patterns in [*modules.items(), ("", legacy)]:
            found |= {f"/accounts/{prefix}{route}" for route, _ in _walk(patterns)}
    # Apps of allauth that are not installed (their modules need their models): by their prefix.
    found |= {"/accounts/", "/accounts/2fa/", "/accounts/sessions/", "/_allauth/browser/v1/config"}
    # allauth's own start of a provider sign-in (a page, then a POST): /login/ is ours.
    found |= {"/accounts/oidc/wx/login/"}
    return found


def test_the_walk_finds_the_pages_the_review_used():
    paths = allauth_local_paths()
    for path in ["/accounts/password/set/", "/accounts/login/", "/accounts/signup/", "/accounts/email/"]:
        assert path in paths
    assert len(paths) > 30


@pytest.mark.parametrize("method", ["get", "post"])
def test_no_local_account_page_answers(users, method):
    signed_in, anonymous = Client(), Client()
    signed_in.force_login(users["alice"])
    answered = {}
    for path in sorted(allauth_local_paths() - {CALLBACK}):
        for browser in (signed_in, anonymous):
            response = getattr(browser, method)(path, {"password1": "s3cret-Passw0rd", "password2": "s3cret-Passw0rd"})
            if response.status_code != 404:
                answered[path] = response.status_code
    assert answered == {}


def test_the_only_allauth_views_mounted_are_the_providers():
    mounted = {
        f"/{route}"
        for route, pattern in _walk(get_resolver().url_patterns)
        if pattern.lookup_str.startswith("allauth.")
    }
    assert mounted == {"/accounts/oidc/x1/login/callback/"}


def test_a_provider_user_cannot_set_a_password_and_sign_in_with_it(users):
    """The review's steps: set a password without the current one, then sign in by username."""
    browser = Client()
    browser.force_login(users["alice"])
    form = {"password1": "s3cret-Passw0rd", "password2": "s3cret-Passw0rd"}
    assert browser.post("/accounts/password/set/", form).status_code == 404
    users["alice"].refresh_from_db()
    assert not users["alice"].has_usable_password()

    users["alice"].set_password("s3cret-Passw0rd")  # as the old views left it
    users["alice"].save()
    stranger = Client()
    assert stranger.post("/accounts/login/", {"login": "alice", "password": "s3cret-Passw0rd"}).status_code == 404
    assert stranger.get("/api/me/").status_code == 403
    # Nor through the admin, which is for staff only.
    stranger.post("/admin/login/", {"username": "alice", "password": "s3cret-Passw0rd"})
    assert stranger.get("/api/me/").status_code == 403


def test_staff_still_sign_in_to_the_admin_with_their_password(django_user_model):
    django_user_model.objects.create_user("moderator", password="mod-Passw0rd-1", is_staff=True)
    browser = Client(enforce_csrf_checks=False)
    response = browser.post("/admin/login/?next=/admin/", {"username": "moderator", "password": "mod-Passw0rd-1"})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert browser.get("/admin/").status_code == 200


def test_the_migration_forgets_passwords_provider_users_set(users, django_user_model):
    from importlib import import_module

    from django.apps import apps

    users["alice"].set_password("planted-Passw0rd")
    users["alice"].save()
    staff = django_user_model.objects.create_user("moderator", password="mod-Passw0rd-1", is_staff=True)
    import_module("miniapp.accounts.migrations.0003_provider_users_have_no_password").forget_provider_passwords(
        apps, None
    )
    users["alice"].refresh_from_db()
    staff.refresh_from_db()
    assert not users["alice"].has_usable_password()
    assert staff.check_password("mod-Passw0rd-1")
