"""A moderator's decision reaches open sockets at once: retractions to the friend feeds
that show the video's entries, and `video_gone` to every page."""

import pytest

from miniapp.engagement.services import like_create
from miniapp.moderation import services
from miniapp.moderation.models import ModerationAction
from tests.fixtures.factories import make_video

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.fixture
def video(users):
    return make_video(users["erin"], title="老王收麦子")


async def test_hiding_a_video_withdraws_its_likes_from_open_friend_feeds(users, moderator, video, open_socket, db_call):
    bob = await open_socket(users["bob"])
    erin = await open_socket(users["erin"])
    await db_call(like_create, user=users["alice"], video=video)
    liked = await bob.receive()
    assert liked["type"] == "activity" and liked["video"]["id"] == video.pk

    await db_call(
        services.video_moderate, video=video, kind=ModerationAction.Kind.HIDE, moderator=moderator, reason="spam"
    )
    received = [await bob.receive(), await bob.receive()]
    retract = next(e for e in received if e["type"] == "retract")
    assert retract["id"] == liked["id"]
    assert {"type": "video_gone", "video": video.pk} in received
    # erin is no friend of alice: she only hears that the video is gone.
    assert await erin.receive() == {"type": "video_gone", "video": video.pk}
    assert await erin.nothing()
    await bob.close()
    await erin.close()


async def test_a_friend_who_was_away_learns_of_the_withdrawal_on_reconnect(
    users, moderator, video, open_socket, db_call
):
    bob = await open_socket(users["bob"])
    await db_call(like_create, user=users["alice"], video=video)
    liked = await bob.receive()
    await bob.close()
    await db_call(
        services.video_moderate, video=video, kind=ModerationAction.Kind.REMOVE, moderator=moderator, reason="rules"
    )
    again = await open_socket(users["bob"], after=liked["seq"])
    retract = await again.receive()
    assert retract["type"] == "retract" and retract["id"] == liked["id"]
    await again.close()
