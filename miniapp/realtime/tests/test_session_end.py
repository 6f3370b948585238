"""A socket lives only as long as its session: when the session ends (sign-out, a password
change, a ban, the account deleted, expiry, flushed on the server) the socket closes with 4401,
gets nothing after, and the same session cannot open it again.

Sessions are real ones (Django's `login`, through the test client) and the sign-outs go through
the app's own paths: its logout view, Django admin's password change, the moderation services.
With REDIS_URL set these run on Redis: the close goes through the user's event stream,
as it reaches every worker."""

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from miniapp.engagement.services import like_create
from miniapp.moderation.services import moderator_make, user_ban, user_delete
from tests.fixtures.factories import make_video
from tests.fixtures.personas import signed_in_client

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

SIGNED_OUT = 4401


@pytest.fixture
def video(users):
    return make_video(users["erin"], title="老王收麦子")


@pytest.fixture
def staff(db, django_user_model):
    """A local account: staff sign in to /admin/ with a password."""
    return django_user_model.objects.create_user(username="mod", password="an old password, long enough", is_staff=True)


def password_client(user, password: str) -> Client:
    client = Client()
    assert client.login(username=user.username, password=password)
    return client


async def is_cut_off(socket, *, alice, video, db_call) -> bool:
    """Nothing reaches the socket any more, not even a friend's like; pings go unanswered."""
    await db_call(like_create, user=alice, video=video)
    await socket.send({"type": "ping"})
    return await socket.nothing()


async def test_a_sign_out_closes_that_sessions_socket_and_no_other(users, video, open_socket, db_call):
    phone, laptop = await db_call(signed_in_client, users["bob"]), await db_call(signed_in_client, users["bob"])
    on_phone = await open_socket(cookie=phone.cookies["sessionid"].value)
    on_laptop = await open_socket(cookie=laptop.cookies["sessionid"].value)

    response = await db_call(phone.post, "/logout/")
    assert response.status_code == 302

    assert await on_phone.closed() == SIGNED_OUT
    assert await is_cut_off(on_phone, alice=users["alice"], video=video, db_call=db_call)
    # bob's laptop is still signed in: it got that like, and answers pings.
    assert (await on_laptop.receive())["type"] == "activity"
    await on_laptop.send({"type": "ping"})
    assert await on_laptop.receive() == {"type": "pong"}


async def test_a_signed_out_session_cannot_open_the_socket_again(users, open_socket, db_call):
    phone = await db_call(signed_in_client, users["bob"])
    cookie = phone.cookies["sessionid"].value
    socket = await open_socket(cookie=cookie)
    await db_call(phone.post, "/logout/")
    assert await socket.closed() == SIGNED_OUT
    again = await open_socket(cookie=cookie, expect_hello=False)
    assert await again.closed() == SIGNED_OUT


async def test_a_password_change_closes_the_other_sessions_sockets(users, staff, video, open_socket, db_call):
    """Django admin's own password change: the session that changed it goes on (under a new
    key, Django's `update_session_auth_hash`), every other session of the user ends."""
    await db_call(lambda: users["alice"].friendships.create(friend=staff))
    await db_call(lambda: staff.friendships.create(friend=users["alice"]))
    here = await db_call(password_client, staff, "an old password, long enough")
    elsewhere = await db_call(password_client, staff, "an old password, long enough")
    old_here, old_elsewhere = here.cookies["sessionid"].value, elsewhere.cookies["sessionid"].value
    on_here = await open_socket(cookie=old_here)
    on_elsewhere = await open_socket(cookie=old_elsewhere)

    new_password = "a brand new password 2026"
    response = await db_call(
        here.post,
        "/admin/password_change/",
        {"old_password": "an old password, long enough", "new_password1": new_password, "new_password2": new_password},
    )
    assert response.status_code == 302, response.content

    assert await on_elsewhere.closed() == SIGNED_OUT
    assert await is_cut_off(on_elsewhere, alice=users["alice"], video=video, db_call=db_call)
    assert await (await open_socket(cookie=old_elsewhere, expect_hello=False)).closed() == SIGNED_OUT
    # The socket of the session that changed it was opened on its old key, which is gone: it
    # closes too, and the page opens it again with the session's new cookie.
    assert await on_here.closed() == SIGNED_OUT
    renewed = here.cookies["sessionid"].value
    assert renewed != old_here
    assert (await open_socket(cookie=renewed)).hello["type"] == "hello"


async def test_a_password_set_anywhere_closes_the_sockets(users, staff, open_socket, db_call):
    """Not only through a view: `manage.py changepassword` or a shell saves the same way."""
    socket = await open_socket(staff)

    def change_password():
        staff.set_password("set from a shell, long enough")
        staff.save()

    await db_call(change_password)
    assert await socket.closed() == SIGNED_OUT


async def test_a_ban_closes_every_socket_of_the_user(users, video, open_socket, db_call):
    mod = await db_call(lambda: type(users["bob"]).objects.create_user(username="mod2"))
    await db_call(moderator_make, user=mod)
    phone, laptop = await db_call(signed_in_client, users["bob"]), await db_call(signed_in_client, users["bob"])
    cookies = [phone.cookies["sessionid"].value, laptop.cookies["sessionid"].value]
    sockets = [await open_socket(cookie=cookie) for cookie in cookies]

    await db_call(user_ban, user=users["bob"], moderator=mod, reason="spam")

    for socket in sockets:
        assert await socket.closed() == SIGNED_OUT
        assert await is_cut_off(socket, alice=users["alice"], video=video, db_call=db_call)
    for cookie in cookies:
        assert await (await open_socket(cookie=cookie, expect_hello=False)).closed() == SIGNED_OUT
    # Signed out on HTTP too; a new sign-in works (banned users may still watch).
    assert (await db_call(phone.get, "/api/me/")).status_code == 403
    assert (await open_socket(users["bob"])).hello["type"] == "hello"


async def test_deleting_the_account_closes_its_sockets(users, open_socket, db_call):
    root = await db_call(lambda: type(users["bob"]).objects.create_superuser(username="root", password="x"))
    phone = await db_call(signed_in_client, users["bob"])
    cookie = phone.cookies["sessionid"].value
    socket = await open_socket(cookie=cookie)

    await db_call(user_delete, user=users["bob"], moderator=root, reason="asked to")

    assert await socket.closed() == SIGNED_OUT
    assert await (await open_socket(cookie=cookie, expect_hello=False)).closed() == SIGNED_OUT


async def test_deactivating_the_user_in_admin_closes_their_sockets(users, video, open_socket, db_call):
    """Admin's own change form, "active" unticked: Django stops signing the user in, and so
    do the sockets, at once (not at the next session sweep, which is an hour away here)."""
    root = await db_call(lambda: type(users["bob"]).objects.create_superuser(username="root", password="x"))
    admin = await db_call(signed_in_client, root)
    bob = users["bob"]
    socket = await open_socket(bob)

    # The change form as admin shows it, with "active" (is_active) left out: unticked.
    form = {"username": bob.username, "display_name": bob.display_name, "avatar_url": bob.avatar_url}
    form |= {"date_joined_0": "2026-01-01", "date_joined_1": "00:00:00"}
    form |= {"bans-TOTAL_FORMS": "0", "bans-INITIAL_FORMS": "0"}  # the bans inline, read-only
    response = await db_call(admin.post, f"/admin/accounts/user/{bob.pk}/change/", form)
    assert response.status_code == 302, response.content
    assert not (await db_call(lambda: type(bob).objects.get(pk=bob.pk))).is_active

    assert await socket.closed() == SIGNED_OUT
    assert await is_cut_off(socket, alice=users["alice"], video=video, db_call=db_call)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"is_active": False}, id="made-inactive"),
        pytest.param({"password": "pbkdf2_sha256$1$salt$changed-outside-any-save"}, id="password-replaced"),
    ],
)
async def test_a_sign_in_ended_by_a_bulk_update_closes_the_socket_at_the_sweep(
    change, users, open_socket, db_call, settings
):
    """An `update()` (a data migration, the shell) has no save to hook: the worker's session
    sweep runs the same check as a new socket would and closes what no longer signs in."""
    settings.SOCKET_SESSION_CHECK_SECONDS = 0.2
    bob = users["bob"]
    socket = await open_socket(bob)
    other = await open_socket(users["carol"])

    await db_call(lambda: type(bob).objects.filter(pk=bob.pk).update(**change))

    assert await socket.closed() == SIGNED_OUT
    await other.send({"type": "ping"})
    assert await other.receive() == {"type": "pong"}


async def test_a_worker_catching_up_after_a_lost_message_checks_sessions_first(users, open_socket, db_call):
    """The lost message may have been a sign-out: before a worker's sockets catch up on what
    they missed, the ones whose session no longer signs in close (nothing is sent to them)."""
    from miniapp.realtime.hub import hub

    socket = await open_socket(users["bob"])
    await db_call(lambda: type(users["bob"]).objects.filter(pk=users["bob"].pk).update(is_active=False))

    hub.start_catch_up(None)  # what the hub does when its streams' server restarted

    assert await socket.closed() == SIGNED_OUT


async def test_an_expiring_session_closes_its_socket_when_it_expires(users, video, open_socket, db_call):
    def short_session():
        client = signed_in_client(users["bob"])
        session = client.session
        session.set_expiry(2)  # seconds from now
        session.save()
        return client.cookies["sessionid"].value

    socket = await open_socket(cookie=await db_call(short_session))
    assert await socket.closed(timeout=15) == SIGNED_OUT
    assert await is_cut_off(socket, alice=users["alice"], video=video, db_call=db_call)


async def test_a_session_deleted_on_the_server_closes_its_socket(users, open_socket, db_call, settings):
    """No sign-out anyone could hear of (`clearsessions`, a flush in the admin or the shell):
    the worker looks for its sockets' sessions every SOCKET_SESSION_CHECK_SECONDS."""
    settings.SOCKET_SESSION_CHECK_SECONDS = 0.2
    phone, laptop = await db_call(signed_in_client, users["bob"]), await db_call(signed_in_client, users["bob"])
    gone = await open_socket(cookie=phone.cookies["sessionid"].value)
    stays = await open_socket(cookie=laptop.cookies["sessionid"].value)

    await db_call(Session.objects.filter(session_key=phone.cookies["sessionid"].value).delete)

    assert await gone.closed() == SIGNED_OUT
    await stays.send({"type": "ping"})
    assert await stays.receive() == {"type": "pong"}


async def test_a_socket_opening_as_its_session_ends_is_closed_too(users, open_socket, db_call):
    """The session ends between the socket's sign-in check and its joining the worker's hub:
    the hub's message came too early for it, so the socket checks its session once joined."""
    from miniapp.realtime import auth

    phone = await db_call(signed_in_client, users["bob"])
    cookie = phone.cookies["sessionid"].value
    real_get_user = auth.get_user

    async def signed_out_meanwhile(scope):
        user = await real_get_user(scope)
        await db_call(phone.post, "/logout/")
        return user

    auth.get_user = signed_out_meanwhile
    try:
        socket = await open_socket(cookie=cookie, expect_hello=False)
    finally:
        auth.get_user = real_get_user
    assert await socket.closed() == SIGNED_OUT
