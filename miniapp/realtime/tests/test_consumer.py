import pytest
from django.db import OperationalError

from miniapp.engagement.services import like_create, like_delete
from miniapp.realtime import consumers
from miniapp.realtime.hub import hub
from tests.fixtures.factories import make_video

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.fixture
def video(users):
    return make_video(users["erin"], title="老王收麦子")


async def test_a_friend_receives_a_like_live(users, video, open_socket, db_call):
    bob = await open_socket(users["bob"])
    await db_call(like_create, user=users["alice"], video=video)
    event = await bob.receive()
    assert event["type"] == "activity"
    assert event["verb"] == "like"
    assert event["actor"]["name"] == "alice"
    assert event["video"] == {"id": video.pk, "title": "老王收麦子", "poster_url": video.poster.url}
    assert event["created"].endswith("Z")
    await bob.close()


async def test_a_stranger_receives_nothing(users, video, open_socket, db_call):
    erin = await open_socket(users["erin"])
    bob = await open_socket(users["bob"])
    await db_call(like_create, user=users["alice"], video=video)
    assert (await bob.receive())["type"] == "activity"
    assert await erin.nothing()
    await erin.close()
    await bob.close()


async def test_every_socket_of_a_friend_gets_it(users, video, open_socket, db_call):
    phone, laptop = await open_socket(users["bob"]), await open_socket(users["bob"])
    await db_call(like_create, user=users["alice"], video=video)
    assert (await phone.receive())["type"] == "activity"
    assert (await laptop.receive())["type"] == "activity"
    await phone.close()
    await laptop.close()


async def test_an_unlike_sends_a_retract(users, video, open_socket, db_call):
    bob = await open_socket(users["bob"])
    await db_call(like_create, user=users["alice"], video=video)
    liked = await bob.receive()
    await db_call(like_delete, user=users["alice"], video=video)
    retract = await bob.receive()
    assert retract["type"] == "retract" and retract["id"] == liked["id"] and retract["seq"] > liked["id"]
    await bob.close()


async def test_a_reconnect_replays_what_was_missed_once_and_in_order(users, open_socket, db_call):
    videos = [await db_call(make_video, users["erin"], title=f"v{i}") for i in range(3)]
    bob = await open_socket(users["bob"])
    await db_call(like_create, user=users["alice"], video=videos[0])
    first = await bob.receive()
    await bob.close()

    await db_call(like_create, user=users["alice"], video=videos[1])
    await db_call(like_create, user=users["carol"], video=videos[2])  # carol is no friend of bob's
    await db_call(like_create, user=users["alice"], video=videos[2])
    await db_call(like_delete, user=users["alice"], video=videos[0])

    bob = await open_socket(users["bob"], after=first["id"])
    replayed = [await bob.receive() for _ in range(3)]
    assert [(e["type"], e.get("video", {}).get("title")) for e in replayed] == [
        ("activity", "v1"),
        ("activity", "v2"),
        ("retract", None),
    ]
    assert replayed[2]["id"] == first["id"]
    assert all(e["replay"] for e in replayed)
    assert await bob.nothing()
    # And live again after the replay.
    await db_call(like_delete, user=users["alice"], video=videos[2])
    assert (await bob.receive())["type"] == "retract"
    await bob.close()


async def test_a_stranger_gets_no_replay_either(users, video, open_socket, db_call):
    await db_call(like_create, user=users["alice"], video=video)
    erin = await open_socket(users["erin"], after=0)
    assert await erin.nothing()
    await erin.close()


async def test_too_much_to_replay_tells_the_client_to_reload(users, open_socket, db_call, settings):
    settings.ACTIVITY_REPLAY_LIMIT = 2
    for _i in range(3):
        await db_call(like_create, user=users["alice"], video=await db_call(make_video, users["erin"]))
    bob = await open_socket(users["bob"], after=0)
    reload = await bob.receive()
    assert reload["type"] == "reload" and reload["last_id"] == bob.hello["last_id"]
    assert await bob.nothing()
    await bob.close()


async def test_hello_tells_where_the_log_stands(users, video, open_socket, db_call):
    await db_call(like_create, user=users["alice"], video=video)
    bob = await open_socket(users["bob"])
    assert bob.hello["last_id"] > 0
    assert await bob.nothing()  # no `after`: no replay
    await bob.close()


async def test_a_socket_that_cannot_be_greeted_is_closed_and_out_of_the_hub(users, video, open_socket, monkeypatch):
    """No disconnect follows a connect that failed: the socket leaves the hub itself, else the hub
    would keep it, and every event for its user, for as long as the worker runs."""

    def away(**kwargs):
        raise OperationalError("the database is away")

    monkeypatch.setattr(consumers, "activity_position", away)
    socket = await open_socket(users["bob"], expect_hello=False)
    assert await socket.communicator.receive_output(timeout=2) == {"type": "websocket.close", "code": 1011}
    assert not hub.sockets.get(users["bob"].pk)


async def test_anonymous_sockets_are_refused_with_4401(open_socket, db):
    socket = await open_socket(None, expect_hello=False)
    assert await socket.communicator.receive_output(timeout=1) == {"type": "websocket.close", "code": 4401}


@pytest.mark.parametrize("origin", [b"https://evil.example", b"null", None])
async def test_foreign_origins_are_refused_with_4403(users, open_socket, origin):
    socket = await open_socket(users["bob"], origin=origin, expect_hello=False)
    assert await socket.communicator.receive_output(timeout=1) == {"type": "websocket.close", "code": 4403}


async def test_ping_gets_pong(users, open_socket):
    bob = await open_socket(users["bob"])
    await bob.send({"type": "ping"})
    assert await bob.receive() == {"type": "pong"}
    await bob.close()


@pytest.mark.parametrize(
    "frame",
    [
        "not json",
        "[1, 2]",
        '{"type": "like", "video": 1}',
        "null",
        "{",
        "[" * 100_000,  # nested too deep for the parser (RecursionError)
        '{"a": ' * 50_000 + "1" + "}" * 50_000,
    ],
    ids=["text", "list", "other-type", "null", "open-brace", "nested-lists", "nested-objects"],
)
async def test_malformed_frames_are_ignored(users, video, open_socket, db_call, frame):
    bob = await open_socket(users["bob"])
    await bob.send(frame)
    assert await bob.nothing()
    await db_call(like_create, user=users["alice"], video=video)  # still alive and streaming
    assert (await bob.receive())["type"] == "activity"
    await bob.close()


async def test_binary_frames_close_with_4003(users, video, open_socket, db_call):
    """1003 (unsupported data) in the range a server application may send: Daphne's autobahn
    refuses 1003 itself (tests/test_socket_frames_e2e.py checks it on a real Daphne)."""
    bob = await open_socket(users["bob"])
    await bob.communicator.send_to(bytes_data=b"\x00\x01")
    assert await bob.closed(timeout=1) == 4003
    await db_call(like_create, user=users["alice"], video=video)
    assert await bob.nothing()


@pytest.mark.parametrize("after", ["abc", "-5", ""])
async def test_garbage_after_means_no_replay(users, video, open_socket, db_call, after):
    await db_call(like_create, user=users["alice"], video=video)
    socket = await open_socket(users["bob"], after=after)
    assert await socket.nothing()
    await socket.close()


async def test_live_events_out_of_log_order_are_all_delivered(users, open_socket, db_call):
    """Each request publishes after its own commit, so a lower id can arrive second."""
    from miniapp.engagement.events import activity_event
    from miniapp.engagement.models import Activity
    from miniapp.realtime.hub import hub

    videos = [await db_call(make_video, users["erin"], title=f"v{i}") for i in range(2)]
    rows = [await db_call(Activity.objects.create, actor=users["alice"], verb="like", video=video) for video in videos]
    events = [
        await db_call(lambda row=row: activity_event(Activity.objects.select_related("actor", "video").get(pk=row.pk)))
        for row in rows
    ]
    bob = await open_socket(users["bob"])
    for event in reversed(events):  # the newer one first
        await hub.deliver([users["bob"].pk], {**event, "created": event["created"]})
    received = [(await bob.receive())["id"] for _ in range(2)]
    assert received == [rows[1].pk, rows[0].pk]
    await bob.close()


async def test_a_reconnect_replays_the_moments_before_after_too(users, open_socket, db_call):
    """An entry numbered below the last one seen may still have been on its way: it comes again."""
    videos = [await db_call(make_video, users["erin"], title=f"v{i}") for i in range(2)]
    await db_call(like_create, user=users["alice"], video=videos[0])
    await db_call(like_create, user=users["alice"], video=videos[1])
    from miniapp.engagement.models import Activity

    newest = await db_call(lambda: Activity.objects.order_by("-id").values_list("id", flat=True).first())
    bob = await open_socket(users["bob"], after=newest)
    replayed = await bob.receive()
    assert replayed["id"] == newest - 1 and replayed["replay"] is True
    assert await bob.nothing()
    await bob.close()
