"""Comments in a live room: the API's checks (length, one line, on air, muted, banned), the host's
and moderators' removal and mute; over the room socket: live to every viewer, gone from every
screen, the last ones in hello and the missed ones on reconnect, entry notices for friends, and
at most PER_TICK frames a tick for a socket, the host's comments never dropped."""

import pytest
from django.test import Client

from miniapp.lives.models import Comment
from miniapp.lives.services import live_end
from miniapp.moderation.services import user_ban
from tests.fixtures.personas import english, signed_in_client


def say(client: Client, live, text: str):
    return client.post(f"/api/lives/{live.pk}/comments/", {"text": text}, content_type="application/json")


@pytest.mark.django_db
def test_a_comment_is_checked_and_answered(users, clip_live):
    bob = english(signed_in_client(users["bob"]))
    made = say(bob, clip_live, "  <b>好看</b>  ")
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["text"] == "<b>好看</b>" and body["user"]["name"] == "bob" and body["staff"] is False
    assert say(english(signed_in_client(users["carol"])), clip_live, "谢谢").json()["staff"] is True  # the host

    for text, words in (("", "Write something"), ("字" * 101, "at most 100"), ("a\nb", "U+000A")):
        refused = say(bob, clip_live, text)
        assert refused.status_code == 400 and words in refused.json()["detail"], refused.content
    assert say(Client(), clip_live, "hi").status_code in (401, 403)
    live_end(live=clip_live)
    assert "not on air" in say(bob, clip_live, "hi").json()["detail"]


@pytest.mark.django_db
def test_the_host_removes_comments_and_mutes_a_viewer(users, clip_live):
    bob = english(signed_in_client(users["bob"]))
    carol = english(signed_in_client(users["carol"]))
    first = say(bob, clip_live, "一").json()["id"]
    say(bob, clip_live, "二")
    assert bob.delete(f"/api/lives/{clip_live.pk}/comments/{first}/").status_code == 403  # not his to remove
    assert carol.delete(f"/api/lives/{clip_live.pk}/comments/{first}/").status_code == 204
    assert Comment.objects.get(pk=first).removed

    def mute(client, user):
        return client.post(f"/api/lives/{clip_live.pk}/mutes/", {"user": user.pk}, content_type="application/json")

    assert mute(bob, users["dave"]).status_code == 403  # not his live
    muted = mute(carol, users["bob"])
    assert muted.status_code == 204
    assert not Comment.objects.filter(user=users["bob"], removed=False).exists()  # his others went too
    refused = say(bob, clip_live, "三")
    assert refused.status_code == 403 and "muted" in refused.json()["detail"]
    assert mute(carol, users["carol"]).status_code == 400


@pytest.mark.django_db
def test_a_banned_user_cannot_comment(users, clip_live):
    user_ban(user=users["bob"], moderator=None, reason="spam")
    refused = say(english(signed_in_client(users["bob"])), clip_live, "hi")
    assert refused.status_code == 403
