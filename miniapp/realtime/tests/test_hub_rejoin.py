"""A layer that forgot the hub's group membership (Redis restarted without its data) is
joined again on a timer, and live events flow again."""

import pytest
from channels.layers import get_channel_layer

from miniapp.engagement.services import like_create
from miniapp.realtime import hub as hub_module
from miniapp.realtime.events import BROADCAST_GROUP
from tests.fixtures.factories import make_video
from tests.fixtures.sockets import until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def test_the_hub_joins_again_after_the_layer_forgot_it(users, open_socket, db_call, monkeypatch):
    monkeypatch.setattr(hub_module, "REJOIN_SECONDS", 0.2)
    video = await db_call(make_video, users["erin"])
    bob = await open_socket(users["bob"])
    layer = get_channel_layer()
    real_group_add, joined = layer.group_add, []

    async def group_add(group, channel):
        await real_group_add(group, channel)
        joined.append(group)

    monkeypatch.setattr(layer, "group_add", group_add)
    # Forget every member of the group, as a Redis restart would.
    if hasattr(layer, "_group_key"):  # channels-redis: delete the group's key
        redis = layer.connection(layer.consistent_hash(BROADCAST_GROUP))
        await redis.delete(layer._group_key(BROADCAST_GROUP))
    else:
        for channel in list(layer.groups.get(BROADCAST_GROUP, {})):
            await layer.group_discard(BROADCAST_GROUP, channel)
    await until(lambda: BROADCAST_GROUP in joined)  # the keeper has joined again
    await db_call(like_create, user=users["alice"], video=video)
    event = await bob.receive(timeout=3)
    assert event["type"] == "activity" and event["video"]["id"] == video.pk
    await bob.close()


async def test_a_hub_that_cannot_join_at_first_joins_once_the_layer_answers(users, open_socket, db_call, monkeypatch):
    video = await db_call(make_video, users["erin"])
    layer = get_channel_layer()
    real_group_add, calls = layer.group_add, []

    async def away_once(group, channel):
        calls.append(channel)
        if len(calls) == 1:
            raise ConnectionError("Redis is away")
        await real_group_add(group, channel)

    monkeypatch.setattr(layer, "group_add", away_once)
    monkeypatch.setattr(hub_module, "RETRY_SECONDS", 0.1)
    bob = await open_socket(users["bob"])  # its hello waits until the hub is in
    assert len(set(calls)) == 1  # on the same channel: none is left behind in the group
    await db_call(like_create, user=users["alice"], video=video)
    event = await bob.receive(timeout=3)
    assert event["type"] == "activity" and event["video"]["id"] == video.pk
    await bob.close()
