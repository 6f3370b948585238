"""The comment sheet's catalogue (`realtime.schema.SHEET_EVENTS`): every type in it is sent by the
app to an open sheet in a test here, and what arrives matches it. Every other test is checked
too: under the test settings (REALTIME_CHECK_EVENTS) a malformed sheet event raises in the
service that sends it."""

import pytest
from django.db import transaction

from miniapp.engagement import comments
from miniapp.engagement.comments import comment_create, comment_pin, comment_remove
from miniapp.moderation.models import ModerationAction
from miniapp.moderation.services import video_moderate
from miniapp.realtime.schema import SHEET_EVENTS, MalformedEvent, check_event
from tests.fixtures.factories import make_video
from tests.fixtures.sockets import Opened, handshake

pytestmark = pytest.mark.django_db(transaction=True)


def catalogued(type_, received):
    """Each of these frames is of `type_` and matches the sheet's schema of it."""
    assert received and all(check_event(event, "sheet") == type_ for event in received), received


@pytest.fixture
async def opened_sheet(users, db_call):
    """A video of erin's and a signed-out sheet open on it: `(video, socket)`."""
    opened = Opened()
    video = await db_call(make_video, users["erin"])
    socket = await opened.open(f"/ws/videos/{video.pk}/comments/", await handshake())
    yield video, socket
    await opened.close_all()


async def test_comment(users, opened_sheet, db_call):
    video, socket = opened_sheet
    first = await db_call(comment_create, user=users["alice"], video=video, text="好看")
    reply = await db_call(comment_create, user=users["bob"], video=video, text="是啊", reply_to=first)
    frames = [await socket.receive(), await socket.receive()]
    catalogued("comment", frames)
    assert frames[1]["comment"]["parent"] == first.pk and frames[1]["comment"]["id"] == reply.pk


async def test_comment_gone(users, opened_sheet, db_call):
    video, socket = opened_sheet
    comment = await db_call(comment_create, user=users["alice"], video=video, text="好看")
    await socket.receive()
    await db_call(comment_remove, comment=comment)
    catalogued("comment_gone", [await socket.receive()])


async def test_comment_pinned(users, opened_sheet, db_call):
    video, socket = opened_sheet
    comment = await db_call(comment_create, user=users["alice"], video=video, text="好看")
    await socket.receive()
    await db_call(comment_pin, comment=comment, pinned=True)
    await db_call(comment_pin, comment=comment, pinned=False)
    frames = [await socket.receive(), await socket.receive()]
    catalogued("comment_pinned", frames)
    assert [frame["id"] for frame in frames] == [comment.pk, None]


async def test_video_gone(users, opened_sheet, db_call):
    video, socket = opened_sheet
    await db_call(video_moderate, video=video, kind=ModerationAction.Kind.HIDE, moderator=None, reason="spam")
    catalogued("video_gone", [await socket.receive()])


async def test_pong(opened_sheet):
    _, socket = opened_sheet
    await socket.send({"type": "ping"})
    catalogued("pong", [await socket.receive()])


SENT_BY = {
    "comment": test_comment,
    "comment_gone": test_comment_gone,
    "comment_pinned": test_comment_pinned,
    "video_gone": test_video_gone,
    "pong": test_pong,
}


def test_every_type_of_the_sheet_catalogue_is_sent_by_a_test_here():
    assert set(SENT_BY) == set(SHEET_EVENTS)


def test_a_malformed_sheet_event_fails_where_it_is_sent(settings):
    assert settings.REALTIME_CHECK_EVENTS
    with pytest.raises(MalformedEvent, match="id: "), transaction.atomic():
        comments._to_sheet(1, {"type": "comment_gone", "id": "7", "parent": None})
    with pytest.raises(MalformedEvent, match="not an event of the sheet catalogue"), transaction.atomic():
        comments._to_sheet(1, {"type": "activity", "id": 7})
    with pytest.raises(MalformedEvent):  # an activity socket's event is not the sheet's
        check_event({"type": "group_read", "group": 1, "last_id": 0, "unread": 0, "total_unread": 0}, "sheet")
