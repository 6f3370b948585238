"""Group posts over the activity socket: every member hears a post live, nobody else does, and
a member who was away gets the missed posts on reconnect, in the same log as activities."""

import pytest

from miniapp.engagement.services import group_posts_create, group_read, like_create
from miniapp.moderation.models import ModerationAction
from miniapp.moderation.services import video_moderate
from tests.fixtures.factories import make_video

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.fixture
def video(users):
    return make_video(users["carol"], title="老王的葡萄")


async def test_every_member_hears_a_post_live_and_nobody_else(users, groups, video, open_socket, db_call):
    village = groups["王家村"]
    erin, bob, alice_laptop = (
        await open_socket(users["erin"]),
        await open_socket(users["bob"]),
        await open_socket(users["alice"]),
    )
    dave = await open_socket(users["dave"])  # alice's friend, not in 王家村
    (post,) = await db_call(
        group_posts_create, sharer=users["alice"], video=video, groups=[village], note="这是我们村的老王"
    )
    for socket in (erin, bob, alice_laptop):
        event = await socket.receive()
        assert event["type"] == "group_post" and event["group"] == village.pk and event["seq"] == post.pk
        assert event["post"]["note"] == "这是我们村的老王" and event["post"]["author"]["name"] == "alice"
        assert event["post"]["url"] == f"/v/{video.pk}/?s={post.share.token}"
    assert await dave.nothing()


async def test_a_reconnect_replays_missed_posts_in_log_order_with_activities(
    users, groups, video, open_socket, db_call
):
    village = groups["王家村"]
    bob = await open_socket(users["bob"])
    await db_call(like_create, user=users["alice"], video=video)
    first = await bob.receive()
    await bob.close()

    (post,) = await db_call(group_posts_create, sharer=users["erin"], video=video, groups=[village], note="好看")
    other = await db_call(make_video, users["carol"], title="村口")
    await db_call(like_create, user=users["alice"], video=other)
    await db_call(group_posts_create, sharer=users["dave"], video=video, groups=[groups["家族群"]])  # not bob's

    bob = await open_socket(users["bob"], after=first["id"])
    assert bob.hello["last_id"] > post.pk
    missed = [await bob.receive() for _ in range(2)]
    assert [(e["type"], e.get("replay")) for e in missed] == [("group_post", True), ("activity", True)]
    assert missed[0]["post"]["id"] == post.pk and missed[0]["post"]["note"] == "好看"
    assert await bob.nothing()


async def test_a_hidden_video_takes_its_posts_away_live(users, groups, video, open_socket, db_call):
    village = groups["王家村"]
    erin = await open_socket(users["erin"])
    (post,) = await db_call(group_posts_create, sharer=users["alice"], video=video, groups=[village])
    assert (await erin.receive())["type"] == "group_post"
    await db_call(video_moderate, video=video, kind=ModerationAction.Kind.HIDE, moderator=users["dave"], reason="x")
    events = {event["type"]: event for event in [await erin.receive() for _ in range(2)]}
    assert events["retract"]["id"] == post.pk and events["retract"]["seq"] > post.pk
    assert events["video_gone"] == {"type": "video_gone", "video": video.pk}


async def test_reading_on_one_page_clears_the_badge_on_the_others(users, groups, video, open_socket, db_call):
    village = groups["王家村"]
    phone, laptop = await open_socket(users["erin"]), await open_socket(users["erin"])
    posts = await db_call(group_posts_create, sharer=users["alice"], video=video, groups=[village])
    await db_call(group_posts_create, sharer=users["alice"], video=video, groups=[village])
    for socket in (phone, laptop):
        assert [(await socket.receive())["type"] for _ in range(2)] == ["group_post", "group_post"]
    await db_call(group_read, user=users["erin"], group=village, last_id=posts[0].pk)
    for socket in (phone, laptop):
        assert await socket.receive() == {
            "type": "group_read",
            "group": village.pk,
            "last_id": posts[0].pk,
            "unread": 1,
            "total_unread": 1,
        }


async def test_a_live_announced_in_a_group_reaches_its_members_live_and_on_reconnect(
    users, groups, open_socket, db_call
):
    from miniapp.engagement.services import live_announce
    from miniapp.lives.services import live_create

    village = groups["王家村"]
    erin, dave = await open_socket(users["erin"]), await open_socket(users["dave"])
    live = await db_call(live_create, host=users["alice"], title="今晚八点直播")
    (post,) = await db_call(live_announce, live=live, groups=[village])
    event = await erin.receive()
    assert event["type"] == "group_post" and event["seq"] == post.pk
    assert event["post"]["kind"] == "live" and event["post"]["video"] is None
    assert event["post"]["live"]["title"] == "今晚八点直播" and event["post"]["url"] == f"/live/{live.pk}/"
    assert await dave.nothing()  # alice's friend, not in 王家村

    bob = await open_socket(users["bob"], after=post.pk - 1)  # away when it was posted
    replayed = await bob.receive()
    assert replayed["post"]["kind"] == "live" and replayed.get("replay") is True


async def test_an_announced_live_going_on_air_and_ending_is_told_to_its_groups(users, groups, open_socket, db_call):
    """Started from its room (the API), a "直播开始了" post in the group and the live's new state
    on its cards; ended (by the host here, by a moderator or a ban as well), its state again."""
    from django.test import Client

    from miniapp.engagement.services import live_announce
    from miniapp.lives.services import live_create, live_end
    from tests.fixtures.personas import signed_in_client

    village = groups["王家村"]
    live = await db_call(live_create, host=users["alice"], title="今晚八点直播")
    (announced,) = await db_call(live_announce, live=live, groups=[village])
    erin, dave = await open_socket(users["erin"]), await open_socket(users["dave"])

    def start() -> int:
        alice: Client = signed_in_client(users["alice"])
        return alice.post(f"/api/lives/{live.pk}/start/").status_code

    assert await db_call(start) == 200
    got = {event["type"]: event for event in [await erin.receive(), await erin.receive()]}
    assert got["live_state"] == {"type": "live_state", "live": {"id": live.pk, "status": "live"}}
    started = got["group_post"]
    assert started["seq"] > announced.pk and started["post"]["live"]["status"] == "live"

    await db_call(live_end, live=live)
    assert await erin.receive() == {"type": "live_state", "live": {"id": live.pk, "status": "ended"}}
    assert await dave.nothing()  # not in 王家村


async def test_a_live_announced_nowhere_tells_no_group(users, groups, open_socket, db_call):
    from miniapp.lives.services import live_create, live_start

    erin = await open_socket(users["erin"])
    live = await db_call(live_create, host=users["alice"], title="随便播播")
    await db_call(live_start, live=live)
    assert await erin.nothing()
