"""The live room's socket for the tests of `lives`: `viewer` opens one."""

import pytest

from miniapp.lives.room_worker import rooms
from tests.fixtures.sockets import ORIGIN, Opened, handshake


@pytest.fixture
async def viewer():
    """`await viewer(live_id, origin=ORIGIN, query="", user=None)`: a room socket (signed out
    unless `user`); its first frame unread."""
    opened = Opened()

    async def connect(live_id: int, origin: bytes = ORIGIN, query: str = "", user=None):
        return await opened.open(f"/ws/live/{live_id}/{query}", await handshake(user, origin=origin))

    yield connect
    await opened.close_all()
    await rooms.stop()
