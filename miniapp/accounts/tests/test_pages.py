import pytest
from django.test import Client

from miniapp.accounts.models import User
from miniapp.engagement.services import like_create

pytestmark = pytest.mark.django_db


def test_me_shows_the_profile_and_friends(client, users):
    client.force_login(users["alice"])
    page = client.get("/me/").content.decode()
    assert "alice" in page
    for name in ["bob", "carol", "dave"]:
        assert name in page
    assert "退出登录" in page


def test_me_escapes_user_text(client, db):
    user = User.objects.create(username="x", display_name='<script>alert("x")</script>')
    client.force_login(user)
    page = client.get("/me/").content.decode()
    assert "<script>alert" not in page
    assert "&lt;script&gt;" in page


def test_me_sends_anonymous_users_to_sign_in(client):
    response = client.get("/me/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/me/"


def test_logout_needs_csrf(users):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(users["alice"])
    assert browser.post("/logout/").status_code == 403
    assert browser.get("/api/me/").status_code == 200


def test_login_redirects_a_signed_in_user_to_next(client, users):
    client.force_login(users["alice"])
    response = client.get("/login/?next=/me/")
    assert response.status_code == 302 and response["Location"] == "/me/"


def test_login_passes_the_hint_on_whole(client, users):
    """ "alice " was stripped to alice's own nickname here: nothing to do, so signed in as
    alice. Only the provider says which nicknames it takes (and refuses this one)."""
    client.force_login(users["alice"])
    response = client.get("/login/", {"login_hint": "alice ", "next": "/me/"})
    assert response.status_code == 200  # asks before switching to "alice "
    assert 'value="alice "' in response.content.decode()


def test_pages_speak_chinese_first_and_english_on_request(client, users):
    client.force_login(users["alice"])
    assert "退出登录" in client.get("/me/").content.decode()
    assert "Sign out" in client.get("/me/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_me_settings_turns_likes_private_and_back(client, users):
    client.force_login(users["alice"])
    response = client.post("/me/settings/", {}, follow=True)  # an unchecked box sends nothing
    assert response.redirect_chain[-1][0] == "/me/"
    users["alice"].refresh_from_db()
    assert users["alice"].share_likes is False
    assert "仅自己可见" in response.content.decode()
    client.post("/me/settings/", {"share_likes": "on"})
    users["alice"].refresh_from_db()
    assert users["alice"].share_likes is True


def test_the_switch_saves_as_it_is_flipped_and_says_so_in_json(client, users):
    client.force_login(users["alice"])
    response = client.post("/me/settings/", {}, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response.json() == {"share_likes": False, "detail": "你的点赞已设为仅自己可见，好友不会再看到。"}
    users["alice"].refresh_from_db()
    assert users["alice"].share_likes is False
    assert "好友不会再看到" not in client.get("/me/").content.decode()  # said once, in the answer: no message left over


def test_me_shows_the_likes_received_and_invites_when_no_friend_uses_the_app(client, users, django_user_model):
    from tests.fixtures.factories import make_video

    video = make_video(users["alice"], title="葡萄")
    for name in ("bob", "carol"):
        like_create(user=users[name], video=video)
    client.force_login(users["alice"])
    page = client.get("/me/").content.decode()
    assert "获赞 2" in page and "invite-button" not in page  # alice has friends
    loner = django_user_model.objects.create_user(username="loner", display_name="独行侠")
    client.force_login(loner)
    page = client.get("/me/").content.decode()
    assert "获赞 0" in page and "邀请好友" in page


def test_me_settings_needs_post_and_sign_in(client, users):
    assert client.post("/me/settings/").status_code == 302  # to the sign-in page
    client.force_login(users["alice"])
    assert client.get("/me/settings/").status_code == 405


def test_login_with_another_identitys_hint_asks_before_switching(client, users):
    client.force_login(users["alice"])
    response = client.get("/login/", {"login_hint": '<b>"bob"</b>', "next": "/me/"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "切换账号" in page and "alice" in page
    assert "<b>" not in page and "&lt;b&gt;" in page
    assert 'method="post"' in page and "csrfmiddlewaretoken" in page
    assert 'href="/me/"' in page  # staying goes on to next
