"""A channel layer full to capacity drops fan-out messages; the hub notices the gap in the
publisher's numbers and its sockets catch up from the database, nothing crashes."""

import asyncio
import copy
import json

import pytest
from channels.layers import get_channel_layer

from miniapp.engagement.events import activity_event
from miniapp.engagement.models import Activity
from miniapp.engagement.services import like_create
from miniapp.realtime.events import BROADCAST_GROUP, fanout_message
from miniapp.realtime.hub import hub
from tests.fixtures.factories import make_video

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

BURST = 12


async def received_seqs(socket, seconds: float) -> list[int]:
    """Every activity frame's seq that arrives within `seconds`, duplicates included.
    (`receive_nothing` polls: a receive that times out would cancel the consumer.)"""
    seqs = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        if await socket.communicator.receive_nothing(timeout=0.05):
            continue
        frame = json.loads(await socket.communicator.receive_from())
        if frame["type"] == "activity":
            seqs.append(frame["seq"])
    return seqs


async def test_a_full_layer_loses_pushes_and_the_sockets_catch_up(users, open_socket, db_call, settings):
    layers = copy.deepcopy(settings.CHANNEL_LAYERS)
    layers["default"].setdefault("CONFIG", {})["capacity"] = 2
    settings.CHANNEL_LAYERS = layers
    bob = await open_socket(users["bob"])

    videos = [await db_call(make_video, users["erin"], title=f"v{i}") for i in range(BURST + 2)]
    # The hub counts a publisher's messages from the first it sees (what came before that
    # cannot be told apart from what was never sent): a steady state, with this process's
    # numbers known.
    await db_call(like_create, user=users["alice"], video=videos[BURST + 1])
    first = (await bob.receive())["seq"]
    rows = [
        await db_call(Activity.objects.create, actor=users["alice"], verb=Activity.Verb.LIKE, video=video)
        for video in videos[:BURST]
    ]
    messages = [
        fanout_message(
            deliveries=[
                (
                    [users["bob"].pk],
                    await db_call(
                        lambda row=row: activity_event(Activity.objects.select_related("actor", "video").get(pk=row.pk))
                    ),
                )
            ]
        )
        for row in rows
    ]
    # A burst from many workers at the same instant: more than the hub's channel holds.
    layer = get_channel_layer()
    await asyncio.gather(*(layer.group_send(BROADCAST_GROUP, message) for message in messages))
    live = await received_seqs(bob, 0.5)
    # The next like from the same process shows the gap in its numbers.
    await db_call(like_create, user=users["alice"], video=videos[BURST])
    later = await received_seqs(bob, 3)

    last = await db_call(lambda: Activity.objects.order_by("-id").values_list("id", flat=True).first())
    expected = {row.pk for row in rows} | {first, last}
    assert {first, *live, *later} == expected  # each one arrived, the lost ones by the catch-up
    if settings.CHANNEL_LAYERS["default"]["BACKEND"].endswith("InMemoryChannelLayer"):
        assert len(set(live)) < BURST  # the layer did drop some (in memory that is certain)
    assert not hub.listener.done()  # the hub is still listening
    await bob.close()
