"""A fan-out message lost on its way (its publish failed: Redis away) is noticed at the
publisher's next heartbeat, with no event after it, and the hub's sockets catch up; a
heartbeat that fails loses nothing, and sets off no catch-up."""

import pytest
from channels.layers import get_channel_layer

from miniapp.engagement.services import like_create
from miniapp.realtime import events
from miniapp.realtime import hub as hub_module
from miniapp.realtime.hub import hub
from tests.fixtures.factories import make_video
from tests.fixtures.sockets import until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


class Unreachable:
    async def group_send(self, group, message):
        raise ConnectionError("Redis is away")


async def test_a_lost_message_is_caught_up_at_the_next_heartbeat(users, open_socket, db_call, monkeypatch):
    monkeypatch.setattr(hub_module, "BEAT_SECONDS", 0.1)
    videos = [await db_call(make_video, users["erin"], title=f"v{i}") for i in range(2)]
    bob = await open_socket(users["bob"])
    hub.gaps.grace = 0.2
    # A like that arrives: the hub knows this process's numbers from here on.
    await db_call(like_create, user=users["alice"], video=videos[0])
    assert (await bob.receive())["video"]["id"] == videos[0].pk

    # A like whose push fails (Redis away): stored, its message numbered, never sent.
    with monkeypatch.context() as patch:
        patch.setattr(events, "get_channel_layer", lambda: Unreachable())
        await db_call(like_create, user=users["alice"], video=videos[1])

    # No other like follows; the next heartbeats show the gap, and bob catches up. (A
    # catch-up sends what the socket may have missed, the first like too: the client
    # drops an entry whose seq it has.)
    caught_up = [(await bob.receive(timeout=3))["video"]["id"] for _ in range(2)]
    assert sorted(caught_up) == [videos[0].pk, videos[1].pk]
    await bob.close()


async def test_heartbeats_that_fail_set_off_no_catch_up(users, open_socket, db_call, monkeypatch):
    monkeypatch.setattr(hub_module, "BEAT_SECONDS", 0.1)
    video = await db_call(make_video, users["erin"])
    bob = await open_socket(users["bob"])
    hub.gaps.grace = 0.2
    await db_call(like_create, user=users["alice"], video=video)
    await bob.receive()
    catch_ups = []
    monkeypatch.setattr(hub, "start_catch_up", lambda: catch_ups.append(1))
    layer = get_channel_layer()
    real_send = layer.group_send
    failed, heard = [], []
    real_heard = hub.gaps.sent_up_to

    def sent_up_to(*args):
        heard.append(1)
        real_heard(*args)

    monkeypatch.setattr(hub.gaps, "sent_up_to", sent_up_to)

    async def beats_fail(group, message):
        if message["type"] == events.BEAT_TYPE:
            failed.append(1)
            raise ConnectionError("Redis is away")
        await real_send(group, message)

    with monkeypatch.context() as patch:
        patch.setattr(layer, "group_send", beats_fail)
        await until(lambda: len(failed) >= 3)
    heard_before = len(heard)
    await until(lambda: len(heard) >= heard_before + 2)  # beats get through again, and the hub read them
    assert catch_ups == []
    assert not hub.gaps.waiting()  # nor is one coming: no number is missing
    await bob.close()


async def test_a_lost_sign_out_is_caught_up_at_the_next_heartbeat(users, open_socket, db_call, monkeypatch):
    """The sign-out's message never went out: the hub sees the gap, and its sockets check their
    sessions as they catch up."""
    from miniapp.moderation.services import user_ban

    monkeypatch.setattr(hub_module, "BEAT_SECONDS", 0.1)
    video = await db_call(make_video, users["erin"])
    bob = await open_socket(users["bob"])
    hub.gaps.grace = 0.2
    await db_call(like_create, user=users["alice"], video=video)  # the hub knows this process's numbers
    await bob.receive()

    with monkeypatch.context() as patch:
        patch.setattr(events, "get_channel_layer", lambda: Unreachable())
        await db_call(user_ban, user=users["bob"], moderator=None, reason="spam")

    assert await bob.closed() == 4401
