"""A group post over real sockets on Daphne: shared through one worker, heard by every member's
socket on another (PostgreSQL + Redis in CI's scale-out pass; one worker without Redis), and by
no one else."""

import json
from contextlib import ExitStack

import pytest
from websockets.sync.client import connect

from tests.fixtures.factories import make_video
from tests.fixtures.personas import api_session

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def events(socket, until_type: str, timeout: float = 10) -> dict:
    """Read frames until one of `until_type` arrives; that one."""
    while True:
        event = json.loads(socket.recv(timeout=timeout))
        if event["type"] == until_type:
            return event


def test_a_post_shared_on_one_worker_reaches_every_member_on_the_other(
    daphne_server, other_worker, users, groups, site
):
    village = groups["王家村"]
    video = make_video(users["carol"], title="老王的葡萄")
    with ExitStack() as stack:

        def socket_of(name, query=""):
            session = api_session(users[name])
            return stack.enter_context(
                connect(
                    other_worker.url.replace("http://", "ws://") + "/ws/activity/" + query,
                    origin=other_worker.url,
                    additional_headers={"Cookie": f"sessionid={session.cookies['sessionid']}"},
                    open_timeout=10,
                )
            )

        sockets = {name: socket_of(name) for name in ("bob", "carol", "erin", "dave")}
        hellos = {name: events(socket, "hello") for name, socket in sockets.items()}

        alice = api_session(users["alice"])
        response = alice.post(
            f"{daphne_server.url}/api/videos/{video.pk}/shares/",
            json={"groups": [village.pk], "note": "这是我们村的老王"},
            timeout=10,
        )
        assert response.status_code == 201, response.text
        post_id = response.json()["groups"][0]["post"]
        for name in ("bob", "carol", "erin"):
            event = events(sockets[name], "group_post")
            assert event["post"]["id"] == post_id and event["post"]["note"] == "这是我们村的老王", name
        with pytest.raises(TimeoutError):
            sockets["dave"].recv(timeout=1)  # in 家族群 with alice, not in 王家村

        # erin was away: a new socket with her last position gets it again, marked as a replay.
        again = socket_of("erin", f"?after={hellos['erin']['last_id']}")
        replayed = events(again, "group_post")
        assert replayed["post"]["id"] == post_id and replayed["replay"] is True
