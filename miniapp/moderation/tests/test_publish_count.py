"""Withdrawing many entries at once (a takedown, a ban, a deletion) goes to the event streams in
one publish (one entry a stream), not one per entry: each worker's hub reads the batch and hands
every retraction to its recipients' sockets."""

import json

import pytest

from miniapp.accounts.models import Friendship
from miniapp.engagement.services import like_create
from miniapp.moderation import services
from miniapp.moderation.models import ModerationAction
from miniapp.realtime import events
from miniapp.realtime.streams import EVERYONE
from tests.fixtures.factories import make_video

pytestmark = pytest.mark.django_db

LIKES = 50


@pytest.fixture
def layer_messages(monkeypatch):
    """What each publish of events adds to the streams, {stream: entry}, as it goes (sign-outs
    aside)."""
    sent = []
    real = events._send

    def send(entries, what):
        parsed = {stream: json.loads(text) for stream, text in entries.items()}
        if any("deliveries" in entry for entry in parsed.values()):
            sent.append(parsed)
        real(entries, what)

    monkeypatch.setattr(events, "_send", send)
    return sent


def delivered(entries: dict, user_id: int) -> list[str]:
    """The types of the events a publish's entries deliver to `user_id`, in order."""
    entry = entries.get(events.stream_of(user_id), {"deliveries": []})
    return [event["type"] for recipients, batch in entry["deliveries"] if user_id in recipients for event in batch]


@pytest.fixture
def likers(users, django_user_model):
    """LIKES users, each a friend of alice and bob."""
    found = [django_user_model.objects.create_user(username=f"liker{i}", display_name=f"赞{i}") for i in range(LIKES)]
    Friendship.objects.bulk_create(
        Friendship(user_id=a, friend_id=b)
        for liker in found
        for friend in (users["alice"], users["bob"])
        for a, b in ((liker.pk, friend.pk), (friend.pk, liker.pk))
    )
    return found


def test_hiding_a_video_with_50_likes_is_one_layer_message(
    users, moderator, likers, layer_messages, django_capture_on_commit_callbacks
):
    video = make_video(users["erin"], title="老王收麦子")
    for liker in likers:
        like_create(user=liker, video=video)
    layer_messages.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.video_moderate(video=video, kind=ModerationAction.Kind.HIDE, moderator=moderator, reason="spam")
    print(f"\nhiding a video with {LIKES} likes: {len(layer_messages)} publish(es)")
    [entries] = layer_messages
    assert entries[EVERYONE] == {"deliveries": [[None, [{"type": "video_gone", "video": video.pk}]]]}
    assert delivered(entries, users["alice"].pk) == delivered(entries, users["bob"].pk) == ["retract"] * LIKES


@pytest.fixture
def busy_alice(users):
    """alice liked LIKES videos, and her own video is liked by bob and carol."""
    for i in range(LIKES):
        like_create(user=users["alice"], video=make_video(users["erin"], title=f"v{i}"))
    own = make_video(users["alice"], title="阿丽的")
    like_create(user=users["bob"], video=own)
    like_create(user=users["carol"], video=own)
    return users["alice"]


def test_banning_a_user_with_50_likes_is_one_layer_message(
    moderator, busy_alice, layer_messages, django_capture_on_commit_callbacks
):
    layer_messages.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.user_ban(user=busy_alice, moderator=moderator, reason="spam")
    print(f"\nbanning a user with {LIKES} likes: {len(layer_messages)} publish(es)")
    assert len(layer_messages) == 1


def test_deleting_a_user_with_50_likes_and_a_liked_video_is_one_layer_message(
    moderator, busy_alice, layer_messages, django_capture_on_commit_callbacks
):
    layer_messages.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.user_delete(user=busy_alice, moderator=moderator, reason="gone")
    print(f"\ndeleting a user with {LIKES} likes, a video liked twice: {len(layer_messages)} publish(es)")
    assert len(layer_messages) == 1
