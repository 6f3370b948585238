"""A fan-out message lost on its way (its publish failed: Redis away) is noticed at the
publisher's next heartbeat, with no event after it, and the hub's sockets catch up."""

import pytest

from miniapp.engagement.services import like_create
from miniapp.realtime import events
from miniapp.realtime import hub as hub_module
from miniapp.realtime.hub import hub
from miniapp.videos.tests.conftest import make_video

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def test_a_lost_message_is_caught_up_at_the_next_heartbeat(users, open_socket, db_call, monkeypatch):
    monkeypatch.setattr(hub_module, "BEAT_SECONDS", 0.1)
    videos = [await db_call(make_video, users["erin"], title=f"v{i}") for i in range(2)]
    bob = await open_socket(users["bob"])
    hub.gaps.grace = 0.2
    # A like that arrives: the hub knows this process's numbers from here on.
    await db_call(like_create, user=users["alice"], video=videos[0])
    assert (await bob.receive())["video"]["id"] == videos[0].pk

    # A like whose push never goes out: stored, its message numbered, nothing sent.
    with monkeypatch.context() as patch:
        patch.setattr(events, "publish", lambda **kwargs: events.fanout_message(**kwargs))
        await db_call(like_create, user=users["alice"], video=videos[1])

    # No other like follows; the next heartbeats show the gap, and bob catches up. (A
    # catch-up sends what the socket may have missed, the first like too: the client
    # drops an entry whose seq it has.)
    caught_up = [(await bob.receive(timeout=3))["video"]["id"] for _ in range(2)]
    assert sorted(caught_up) == [videos[0].pk, videos[1].pk]
    await bob.close()
