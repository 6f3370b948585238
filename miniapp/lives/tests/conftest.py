"""The live room's socket for the tests of `lives`: `viewer` opens one."""

import pytest
from channels.db import database_sync_to_async

from miniapp.lives.room_socket import rooms
from tests.fixtures.personas import session_cookie
from tests.fixtures.sockets import HOST, ORIGIN, Opened


@pytest.fixture
async def viewer():
    """`await viewer(live_id, origin=ORIGIN, query="", user=None)`: a room socket (signed out
    unless `user`); its first frame unread."""
    opened = Opened()

    async def connect(live_id: int, origin: bytes = ORIGIN, query: str = "", user=None):
        headers = [(b"origin", origin), (b"host", HOST)]
        if user is not None:
            cookie = await database_sync_to_async(session_cookie)(user)
            headers.append((b"cookie", f"sessionid={cookie}".encode()))
        return await opened.open(f"/ws/live/{live_id}/{query}", headers)

    yield connect
    await opened.close_all()
    await rooms.stop()
