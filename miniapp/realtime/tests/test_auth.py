"""The socket knows its user from the session cookie, checked as Django checks it."""

import pytest
from channels.db import database_sync_to_async

from tests.fixtures.personas import session_cookie

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def test_a_signed_in_session_opens_the_socket(users, open_socket):
    bob = await open_socket(users["bob"])
    assert bob.hello["type"] == "hello"


async def test_an_unknown_session_key_is_signed_out(open_socket, db):
    socket = await open_socket(None, expect_hello=False, cookie="no-such-session")
    assert await socket.communicator.receive_output(timeout=1) == {"type": "websocket.close", "code": 4401}


async def test_a_session_from_before_a_password_change_is_signed_out(users, open_socket):
    cookie = await database_sync_to_async(session_cookie)(users["bob"])

    def change_password():
        users["bob"].set_password("a new one, long enough")
        users["bob"].save()

    await database_sync_to_async(change_password)()
    socket = await open_socket(None, expect_hello=False, cookie=cookie)
    assert await socket.communicator.receive_output(timeout=1) == {"type": "websocket.close", "code": 4401}
