"""The catalogue of socket events (`realtime.schema`): every type in it is sent by the app in
a test here, and what arrives matches it. Every other test is checked too: the test settings
turn on REALTIME_CHECK_EVENTS, so a malformed event raises in the code that sends it."""

import pytest
from django.db import transaction
from jsonschema import Draft202012Validator

from miniapp.engagement.services import group_posts_create, group_read, like_create, like_delete, share_create
from miniapp.moderation.models import ModerationAction
from miniapp.moderation.services import video_moderate
from miniapp.realtime import events
from miniapp.realtime.schema import CATALOGUES, EVENTS, MalformedEvent, check_event
from tests.fixtures.factories import make_video

pytestmark = pytest.mark.django_db(transaction=True)


def catalogued(type_, received):
    """Each of these events is of `type_` and matches its schema."""
    assert received and all(check_event(event) == type_ for event in received), received


async def test_hello(users, open_socket):
    catalogued("hello", [(await open_socket(users["bob"])).hello])


async def test_reload(users, open_socket, db_call, settings):
    settings.ACTIVITY_REPLAY_LIMIT = 1
    for title in ("v0", "v1"):
        await db_call(like_create, user=users["alice"], video=await db_call(make_video, users["erin"], title=title))
    catalogued("reload", [await (await open_socket(users["bob"], after=0)).receive()])


async def test_pong(users, open_socket):
    bob = await open_socket(users["bob"])
    await bob.send({"type": "ping"})
    catalogued("pong", [await bob.receive()])


async def test_activity(users, open_socket, db_call):
    """A like, a share and a like in a live, live, then again as a reconnect's replay."""
    from miniapp.engagement.services import live_like
    from miniapp.lives.services import live_create, live_start

    video = await db_call(make_video, users["erin"], title="老王收麦子")
    room = await db_call(live_start, live=await db_call(live_create, host=users["erin"], title="收麦子直播"))
    bob = await open_socket(users["bob"])
    await db_call(like_create, user=users["alice"], video=video)
    await db_call(share_create, sharer=users["alice"], video=video, recipients=[users["bob"]], note="看看")
    await db_call(live_like, user=users["alice"], live=room, count=2, batch="b")
    live = [await bob.receive() for _ in range(3)]
    again = await open_socket(users["bob"], after=bob.hello["last_id"])
    replayed = [await again.receive() for _ in range(3)]
    catalogued("activity", live + replayed)
    assert {event["verb"] for event in live} == {"like", "share", "live_like"}
    assert all(event["replay"] for event in replayed)


async def test_retract(users, open_socket, db_call):
    """An unlike, live, then again as a replay."""
    video = await db_call(make_video, users["erin"], title="老王收麦子")
    await db_call(like_create, user=users["alice"], video=video)
    bob = await open_socket(users["bob"])
    await db_call(like_delete, user=users["alice"], video=video)
    live = await bob.receive()
    again = await open_socket(users["bob"], after=live["id"])
    catalogued("retract", [live, await again.receive()])


async def test_video_gone(users, open_socket, db_call):
    video = await db_call(make_video, users["erin"], title="老王收麦子")
    erin = await open_socket(users["erin"])
    await db_call(video_moderate, video=video, kind=ModerationAction.Kind.HIDE, moderator=None, reason="reports")
    catalogued("video_gone", [await erin.receive()])


# The test above that makes the app send each type of the catalogue: a new type needs one.
async def test_group_post(users, groups, open_socket, db_call):
    """A post into 王家村, live to erin (no friend of the sharer's), then again as a replay."""
    video = await db_call(make_video, users["carol"], title="老王的葡萄")
    erin = await open_socket(users["erin"])
    await db_call(group_posts_create, sharer=users["alice"], video=video, groups=[groups["王家村"]], note="看")
    live = await erin.receive()
    again = await open_socket(users["erin"], after=0)
    catalogued("group_post", [live, await again.receive()])


async def test_group_read(users, groups, open_socket, db_call):
    video = await db_call(make_video, users["carol"], title="老王的葡萄")
    (post,) = await db_call(group_posts_create, sharer=users["alice"], video=video, groups=[groups["王家村"]])
    erin = await open_socket(users["erin"])
    await db_call(group_read, user=users["erin"], group=groups["王家村"], last_id=post.pk)
    catalogued("group_read", [await erin.receive()])


async def test_live_state(users, groups, open_socket, db_call):
    from miniapp.engagement.services import live_announce
    from miniapp.lives.services import live_create, live_start

    live = await db_call(live_create, host=users["alice"], title="今晚")
    await db_call(live_announce, live=live, groups=[groups["王家村"]])
    erin = await open_socket(users["erin"])
    await db_call(live_start, live=live)
    catalogued("live_state", [await erin.receive()])


SENT_BY = {
    "hello": test_hello,
    "reload": test_reload,
    "pong": test_pong,
    "activity": test_activity,
    "retract": test_retract,
    "video_gone": test_video_gone,
    "group_post": test_group_post,
    "group_read": test_group_read,
    "live_state": test_live_state,
}


def test_every_type_of_the_catalogue_is_sent_by_a_test_here():
    assert set(SENT_BY) == set(EVENTS)


@pytest.mark.parametrize(
    ("catalogue", "type_"), [(name, type_) for name, events in sorted(CATALOGUES.items()) for type_ in sorted(events)]
)
def test_each_schema_of_every_catalogue_is_valid_json_schema(catalogue, type_):
    Draft202012Validator.check_schema(CATALOGUES[catalogue][type_])


def test_replays_are_marked_and_shares_carry_a_note():
    like = {
        "type": "activity",
        "id": 7,
        "seq": 7,
        "verb": "like",
        "actor": {"id": 1, "name": "alice", "avatar": ""},
        "video": {"id": 3, "title": "t", "poster_url": "/media/p.jpg"},
        "created": "2026-11-28T06:00:00Z",
        "url": "/v/3/",
    }
    assert check_event({**like, "replay": True}) == "activity"
    assert check_event({**like, "verb": "share", "note": ""}) == "activity"
    for wrong in (
        {**like, "note": "a like has none"},
        {**like, "verb": "share"},  # a share's note, even empty
        {**like, "replay": False},
        {**like, "created": "2026-11-28T06:00:00+00:00"},
        {**like, "id": True},
        {**like, "actor": {"id": 1, "name": "alice"}},
        {**like, "extra": 1},
        {"type": "retract", "id": 7},
        {"type": "unknown"},
        ["not", "an", "event"],
    ):
        with pytest.raises(MalformedEvent):
            check_event(wrong)


def test_a_malformed_event_fails_where_it_is_sent(settings):
    assert settings.REALTIME_CHECK_EVENTS  # the test settings check every event the suite sends
    with pytest.raises(MalformedEvent, match="video: "), transaction.atomic():
        events.send_event_to_everyone_on_commit({"type": "video_gone", "video": "42"})
    with pytest.raises(MalformedEvent, match="not an event of the activity catalogue"), transaction.atomic():
        events.send_event_on_commit(recipients=[1], event={"type": "like", "video": 42})


def test_the_activity_api_serves_catalogued_events(client, users):
    video = make_video(users["erin"], title="老王收麦子")
    like_create(user=users["alice"], video=video)
    client.force_login(users["bob"])
    first = client.get("/api/activity/").json()
    share_create(sharer=users["alice"], video=video, recipients=[users["bob"]], note="看看")
    like_delete(user=users["alice"], video=video)
    later = client.get(f"/api/activity/?after={first['last_id']}").json()
    assert [check_event(event) for event in first["results"] + later["results"]] == ["activity", "activity", "retract"]
