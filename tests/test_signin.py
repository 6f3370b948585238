"""The whole sign-in over real HTTP: app → provider → callback → token → signed in → friends."""

import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from allauth.socialaccount.models import SocialAccount

from miniapp.accounts.models import Friendship, PendingFriend, User
from miniapp.mockwx import services as mockwx
from miniapp.mockwx.models import Client, Identity
from tests.fixtures.personas import signin

pytestmark = pytest.mark.django_db(transaction=True)


def friend_names(browser, base):
    response = browser.get(f"{base}/api/friends/", timeout=10)
    assert response.status_code == 200
    return sorted(f["name"] for f in response.json()["friends"])


def test_it_signs_in_and_imports_friends(live_site, browser):
    response = signin(browser, live_site, "alice")
    assert response.url == f"{live_site}/api/me/"
    assert response.json()["name"] == "alice"
    # Only alice has signed in: her friends wait until they do.
    assert friend_names(browser, live_site) == []
    assert PendingFriend.objects.filter(user__username="alice").count() == 3

    with browser.__class__() as bob:
        signin(bob, live_site, "bob")
        assert friend_names(bob, live_site) == ["alice"]
    assert friend_names(browser, live_site) == ["bob"]
    assert PendingFriend.objects.filter(user__username="alice").count() == 2


def test_the_demo_friends_are_listed_after_seed_demo(live_site, browser, settings):
    from django.core.management import call_command

    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    signin(browser, live_site, "alice")
    assert friend_names(browser, live_site) == ["bob", "carol", "dave"]


def test_an_unfriend_is_reflected_at_the_next_sign_in(live_site, browser, identities):
    for name in ["alice", "bob"]:
        with browser.__class__() as session:
            signin(session, live_site, name)
    assert Friendship.objects.count() == 2

    identities["alice"].friends.remove(identities["bob"])
    signin(browser, live_site, "alice")
    assert friend_names(browser, live_site) == []
    assert Friendship.objects.count() == 0


def test_the_account_is_keyed_by_the_pairwise_openid(live_site, browser, identities):
    signin(browser, live_site, "alice")
    account = SocialAccount.objects.get(user__username="alice")
    client = Client.objects.get(name="miniapp")
    assert account.uid == mockwx.openid_for(client=client, identity=identities["alice"])
    signin(browser, live_site, "alice")
    assert User.objects.filter(username="alice").count() == 1


def test_without_a_hint_it_shows_the_persona_page(live_site, browser):
    response = browser.get(f"{live_site}/login/", timeout=10)
    assert response.status_code == 200
    assert response.url.startswith(f"{live_site}/mockwx/authorize?")
    assert "允许" in response.text and "alice" in response.text


def test_choosing_a_persona_signs_in(live_site, browser, identities):
    page = browser.get(f"{live_site}/login/?next=/me/", timeout=10)
    token = browser.cookies["csrftoken"]
    response = browser.post(
        page.url,
        {"csrfmiddlewaretoken": token, "decision": "allow", "identity": identities["carol"].pk},
        headers={"Referer": page.url},
        timeout=10,
    )
    assert response.url == f"{live_site}/me/"
    assert "carol" in response.text


def deny(browser, page):
    return browser.post(
        page.url,
        {"csrfmiddlewaretoken": browser.cookies["csrftoken"], "decision": "deny"},
        headers={"Referer": page.url},
        timeout=10,
    )


def test_denied_consent_comes_back_to_the_page_it_left_with_a_message(live_site, browser):
    # Started from a page of the feed (a link to /me/, which is for the signed-in): back there,
    # not to /me/, which would ask again.
    page = browser.get(f"{live_site}/login/?next=/me/", headers={"Referer": f"{live_site}/?v=2"}, timeout=10)
    response = deny(browser, page)
    assert response.status_code == 200
    assert response.url == f"{live_site}/?v=2"
    assert "取消了登录" in response.text
    assert browser.get(f"{live_site}/api/me/", timeout=10).status_code == 403


@pytest.mark.parametrize("referer", [None, "https://evil.example/v/1/", "{site}/login/?next=/me/"])
def test_denied_consent_without_a_page_of_this_site_to_go_back_to_goes_home(live_site, browser, referer):
    headers = {"Referer": referer.format(site=live_site)} if referer else {}
    page = browser.get(f"{live_site}/login/?next=/me/", headers=headers, timeout=10)
    response = deny(browser, page)
    assert urlsplit(response.url).path == "/"
    assert "取消了登录" in response.text


def test_a_tampered_state_does_not_sign_in(live_site, browser):
    first = browser.get(f"{live_site}/login/", params={"login_hint": "alice"}, allow_redirects=False, timeout=10)
    provider = browser.get(first.headers["Location"], allow_redirects=False, timeout=10)
    callback = provider.headers["Location"]
    query = parse_qs(urlsplit(callback).query)
    forged = callback.replace(f"state={query['state'][0]}", "state=forged")
    response = browser.get(forged, timeout=10)
    assert response.status_code == 200
    assert urlsplit(response.url).path == "/"
    assert "登录失败" in response.text
    assert browser.get(f"{live_site}/api/me/", timeout=10).status_code == 403


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"])
def test_next_never_leaves_the_site(live_site, browser, target):
    response = signin(browser, live_site, "alice", next_url=target)
    assert response.url == f"{live_site}/"


def test_sign_out_needs_a_post(live_site, browser):
    signin(browser, live_site, "alice")
    assert browser.get(f"{live_site}/logout/", timeout=10).status_code == 405
    browser.get(f"{live_site}/me/", timeout=10)
    response = browser.post(
        f"{live_site}/logout/",
        {"csrfmiddlewaretoken": browser.cookies["csrftoken"]},
        headers={"Referer": f"{live_site}/me/"},
        timeout=10,
    )
    assert response.status_code == 200
    assert browser.get(f"{live_site}/api/me/", timeout=10).status_code == 403


def test_another_oidc_provider_without_a_friend_list_still_signs_in(live_site, browser, settings):
    app = settings.SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"][0]
    # A provider whose discovery document has no friends endpoint, like any plain OIDC provider.
    app["settings"]["openid_configuration_overrides"] = {"friends_endpoint": None}
    response = signin(browser, live_site, "alice")
    assert response.json()["name"] == "alice"
    assert PendingFriend.objects.count() == 0


def test_login_starts_the_provider_flow_with_pkce(live_site, browser):
    response = browser.get(f"{live_site}/login/?login_hint=alice", allow_redirects=False, timeout=10)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(f"{live_site}/mockwx/authorize?")
    for part in ["code_challenge_method=S256", "login_hint=alice", "prompt=none", "state=", "scope="]:
        assert part in location


def test_a_javascript_avatar_is_dropped(db):
    from miniapp.accounts.models import User
    from miniapp.accounts.services import user_update_profile

    user = User.objects.create(username="x")
    user_update_profile(user=user, display_name="x", avatar_url="javascript:alert(1)")
    assert user.avatar_url == ""


def test_a_deactivated_user_is_sent_home_with_a_message(live_site, browser):
    signin(browser, live_site, "alice")
    User.objects.filter(username="alice").update(is_active=False)
    with browser.__class__() as again:
        response = signin(again, live_site, "alice")
        assert response.status_code == 200
        assert urlsplit(response.url).path == "/"
        assert "已停用" in response.text
        assert again.get(f"{live_site}/api/me/", timeout=10).status_code == 403


PARALLEL = 8


@pytest.mark.parametrize("nickname", ["newcomer", "alice"], ids=["new-identity", "known-identity-with-friends"])
def test_parallel_first_sign_ins_make_one_user(live_site, nickname):
    """The review's 8 parallel first sign-ins of one new nickname on PostgreSQL: three 500s
    (IntegrityError on the username, and on the social account's uid) and a user left with
    no social account. Each browser first gets as far as the provider's redirect back (the
    provider creates a new identity, all at once), then all come back to the callback at once."""
    start, back = threading.Barrier(PARALLEL), threading.Barrier(PARALLEL)

    def sign_in(_):
        with requests.Session() as browser:
            start.wait(timeout=30)
            login = browser.get(
                f"{live_site}/login/", params={"login_hint": nickname, "next": "/api/me/"}, allow_redirects=False
            )
            provider = browser.get(login.headers["Location"], allow_redirects=False, timeout=20)
            back.wait(timeout=30)
            response = browser.get(provider.headers["Location"], timeout=30)
            return response.status_code, response.json()["id"] if response.status_code == 200 else response.text[:300]

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        answers = list(pool.map(sign_in, range(PARALLEL)))

    assert [status for status, _ in answers] == [200] * PARALLEL, answers
    assert len({user_id for _, user_id in answers}) == 1
    assert Identity.objects.filter(nickname=nickname).count() == 1
    assert User.objects.count() == 1  # nobody left without a social account
    assert SocialAccount.objects.filter(user__username=nickname).count() == 1


@pytest.mark.parametrize(
    "hint",
    ["x" * 33, "ali\u200bce", "bob\x00", "alice ", "alice\xa0", "ali\u3164ce"],
    ids=["too-long", "zero-width", "nul", "trailing-space", "trailing-nbsp", "hangul-filler"],
)
def test_a_hint_that_is_no_nickname_is_refused_not_cut(live_site, browser, hint):
    """A 33-character hint signed in as its first 32 characters (someone else, maybe);
    "alice " and "alice\xa0" signed in as alice (the app, then the provider, stripped them)."""
    before = Identity.objects.count()
    response = signin(browser, live_site, hint)
    assert response.status_code == 400
    assert urlsplit(response.url).path == "/mockwx/authorize"
    assert "login_hint" in response.text
    assert Identity.objects.count() == before
    assert browser.get(f"{live_site}/api/me/", timeout=10).status_code == 403


def test_a_link_cannot_switch_a_signed_in_user_to_another_identity(live_site, browser):
    """Login CSRF: a cross-site link to /login/?login_hint=mallory signed alice in as mallory."""
    signin(browser, live_site, "alice")
    response = browser.get(f"{live_site}/login/", params={"login_hint": "mallory", "next": "/upload/"}, timeout=10)
    assert response.status_code == 200
    assert urlsplit(response.url).path == "/login/"
    assert "alice" in response.text and "mallory" in response.text
    assert browser.get(f"{live_site}/api/me/", timeout=10).json()["name"] == "alice"
    assert not Identity.objects.filter(nickname="mallory").exists()


def test_the_switch_page_switches_when_its_button_is_pressed(live_site, browser):
    signin(browser, live_site, "alice")
    page = browser.get(f"{live_site}/login/", params={"login_hint": "mallory", "next": "/upload/"}, timeout=10)
    form = {"csrfmiddlewaretoken": browser.cookies["csrftoken"], "login_hint": "mallory", "next": "/upload/"}
    assert f'value="{form["csrfmiddlewaretoken"]}"' in page.text or 'name="csrfmiddlewaretoken"' in page.text
    response = browser.post(f"{live_site}/login/", form, headers={"Referer": page.url}, timeout=10)
    assert response.status_code == 200
    assert response.url == f"{live_site}/upload/"
    assert browser.get(f"{live_site}/api/me/", timeout=10).json()["name"] == "mallory"


def test_a_switch_posted_from_another_site_is_refused(live_site, browser):
    signin(browser, live_site, "alice")
    forged = browser.post(f"{live_site}/login/", {"login_hint": "mallory", "next": "/upload/"}, timeout=10)
    assert forged.status_code == 403
    assert browser.get(f"{live_site}/api/me/", timeout=10).json()["name"] == "alice"


def test_a_link_for_the_signed_in_identity_goes_straight_to_next(live_site, browser):
    signin(browser, live_site, "alice")
    response = browser.get(
        f"{live_site}/login/", params={"login_hint": "alice", "next": "/me/"}, allow_redirects=False, timeout=10
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/me/"
