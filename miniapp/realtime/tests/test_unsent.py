"""A push whose adding failed (Redis away from the publishing process) is added again once Redis
answers: by the next publish, or by the hub within a read, with no event after it. Too much of it
for too long, and every worker's sockets catch up from the database instead."""

import pytest

from miniapp.engagement.services import like_create
from miniapp.realtime import events
from miniapp.realtime import hub as hub_module
from miniapp.realtime.hub import hub
from tests.fixtures.factories import make_video

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.fixture(autouse=True)
def nothing_unsent():
    events.unsent.take()
    yield
    events.unsent.take()


def unreachable(patch) -> None:
    """The streams' server away for adds from this process (reads still answer)."""

    def fail(*args, **kwargs):
        raise ConnectionError("Redis is away")

    async def afail(*args, **kwargs):
        fail()

    patch.setattr(events.bus(), "add_now", fail)
    patch.setattr(events.bus(), "add", afail)


async def test_a_like_whose_push_failed_arrives_once_redis_answers(users, open_socket, db_call, monkeypatch):
    monkeypatch.setattr(hub_module, "READ_BLOCK", 0.2)
    videos = [await db_call(make_video, users["erin"], title=f"v{i}") for i in range(2)]
    bob = await open_socket(users["bob"])
    await db_call(like_create, user=users["alice"], video=videos[0])
    assert (await bob.receive())["video"]["id"] == videos[0].pk

    with monkeypatch.context() as patch:
        unreachable(patch)
        await db_call(like_create, user=users["alice"], video=videos[1])  # stored; its push failed
        assert await bob.nothing()
        assert events.unsent.entries

    # No other like follows: the hub adds it again within a read, and bob gets it.
    late = await bob.receive(timeout=3)
    assert late["type"] == "activity" and late["video"]["id"] == videos[1].pk
    assert not events.unsent.entries
    await bob.close()


async def test_a_sign_out_whose_push_failed_closes_the_socket_once_redis_answers(
    users, open_socket, db_call, monkeypatch
):
    from miniapp.moderation.services import user_ban

    monkeypatch.setattr(hub_module, "READ_BLOCK", 0.2)
    bob = await open_socket(users["bob"])
    with monkeypatch.context() as patch:
        unreachable(patch)
        await db_call(user_ban, user=users["bob"], moderator=None, reason="spam")
    assert await bob.closed() == 4401


async def test_too_much_unsent_has_every_socket_catch_up(users, open_socket, db_call, monkeypatch):
    monkeypatch.setattr(hub_module, "READ_BLOCK", 0.2)
    monkeypatch.setattr(events, "UNSENT_MAX", 2)
    videos = [await db_call(make_video, users["erin"], title=f"v{i}") for i in range(4)]
    bob = await open_socket(users["bob"])
    caught_up = []
    real_start = hub.start_catch_up
    monkeypatch.setattr(hub, "start_catch_up", lambda lost: (caught_up.append(lost), real_start(lost)))
    with monkeypatch.context() as patch:
        unreachable(patch)
        for video in videos:  # four pushes fail, more than UNSENT_MAX: one marker instead
            await db_call(like_create, user=users["alice"], video=video)
        assert events.unsent.entries[0] == events.CATCH_UP  # what came before it, dropped
    got = {(await bob.receive(timeout=3))["video"]["id"] for _ in videos}  # bob caught up from the database
    assert got == {video.pk for video in videos}
    assert None in caught_up
    await bob.close()
