"""The comment sheet's socket `/ws/videos/<id>/comments/`: signed out too, comments of that video
only as they come, their removal and the pinned one, and the Origin and video checks."""

import pytest

from miniapp.engagement.comments import comment_create, comment_pin, comment_remove
from miniapp.engagement.consumers import FORBIDDEN, NOT_FOUND
from miniapp.videos.models import Video
from tests.fixtures.factories import make_video
from tests.fixtures.sockets import ORIGIN, Opened, handshake

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.fixture
async def sheet():
    """`await sheet(video_id, origin=ORIGIN)`: a comment sheet's socket, signed out."""
    opened = Opened()

    async def connect(video_id: int, origin: bytes = ORIGIN):
        return await opened.open(f"/ws/videos/{video_id}/comments/", await handshake(origin=origin))

    yield connect
    await opened.close_all()


async def test_an_open_sheet_hears_its_videos_comments_and_their_removal(users, sheet, db_call):
    video = await db_call(make_video, users["erin"])
    other = await db_call(make_video, users["erin"])
    socket = await sheet(video.pk)
    elsewhere = await sheet(other.pk)
    comment = await db_call(comment_create, user=users["alice"], video=video, text="<b>好</b>")
    frame = await socket.receive()
    assert frame["type"] == "comment" and frame["comment"]["text"] == "<b>好</b>"  # text, for the page to escape
    assert frame["comment"]["id"] == comment.pk and frame["comment"]["author"]["name"] == "alice"
    await db_call(comment_pin, comment=comment, pinned=True)
    assert await socket.receive() == {"type": "comment_pinned", "id": comment.pk}
    await db_call(comment_remove, comment=comment)
    assert await socket.receive() == {"type": "comment_gone", "id": comment.pk, "parent": None}
    assert await elsewhere.nothing()  # another video's sheet hears nothing of it


async def test_ping_is_answered(users, sheet, db_call):
    video = await db_call(make_video, users["erin"])
    socket = await sheet(video.pk)
    await socket.send({"type": "ping"})
    assert await socket.receive() == {"type": "pong"}


async def test_another_origin_or_a_hidden_video_is_refused(users, sheet, db_call):
    video = await db_call(make_video, users["erin"])
    hidden = await db_call(make_video, users["erin"], status=Video.Status.HIDDEN)
    assert await (await sheet(video.pk, origin=b"https://evil.example")).closed() == FORBIDDEN
    assert await (await sheet(hidden.pk)).closed() == NOT_FOUND
    assert await (await sheet(424242)).closed() == NOT_FOUND
