from datetime import UTC

import pytest
from django.db import transaction

from miniapp.engagement.models import Activity, Like
from miniapp.engagement.services import like_create, like_delete, user_set_share_likes
from miniapp.videos.tests.conftest import make_video

pytestmark = pytest.mark.django_db


@pytest.fixture
def video(users):
    return make_video(users["erin"], title="老王收麦子")


def test_a_like_is_stored_counted_logged_and_pushed_to_friends_after_commit(
    users, video, pushed, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert like_create(user=users["alice"], video=video) == (True, 1)
        assert pushed == []  # nothing leaves before the commit
    activity = Activity.objects.get()
    assert Like.objects.filter(user=users["alice"], video=video).exists()
    [(recipients, event)] = pushed
    assert recipients == sorted(u.pk for u in [users["bob"], users["carol"], users["dave"]])
    assert event == {
        "type": "activity",
        "id": activity.pk,
        "seq": activity.pk,
        "verb": "like",
        "actor": {"id": users["alice"].pk, "name": "alice", "avatar": users["alice"].avatar_url},
        "video": {"id": video.pk, "title": "老王收麦子", "poster_url": video.poster.url},
        "created": activity.created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "url": f"/v/{video.pk}/",
    }


def test_a_repeat_like_changes_nothing_and_pushes_nothing(users, video, pushed, django_capture_on_commit_callbacks):
    like_create(user=users["alice"], video=video)
    with django_capture_on_commit_callbacks(execute=True):
        assert like_create(user=users["alice"], video=video) == (True, 1)
    assert pushed == []
    assert Activity.objects.count() == 1


def test_a_rolled_back_like_pushes_nothing(users, video, pushed, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        like_create(user=users["alice"], video=video)
        raise RuntimeError("the request failed later")
    assert pushed == []
    assert not Like.objects.exists()


def test_an_unlike_retracts_the_activity(users, video, pushed, django_capture_on_commit_callbacks):
    like_create(user=users["alice"], video=video)
    liked = Activity.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        assert like_delete(user=users["alice"], video=video) == (False, 0)
    liked.refresh_from_db()
    assert liked.retracted
    retraction = Activity.objects.get(verb="retract")
    [(recipients, event)] = pushed
    assert event == {"type": "retract", "id": liked.pk, "seq": retraction.pk}
    assert users["bob"].pk in recipients
    with django_capture_on_commit_callbacks(execute=True):
        assert like_delete(user=users["alice"], video=video) == (False, 0)  # idempotent
    assert len(pushed) == 1


def test_a_user_without_friends_pushes_nothing(users, video, pushed, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        like_create(user=users["erin"], video=video)
    assert pushed == []


def test_private_likes_are_neither_stored_for_friends_nor_pushed(
    users, video, pushed, django_capture_on_commit_callbacks
):
    user_set_share_likes(user=users["alice"], share_likes=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert like_create(user=users["alice"], video=video) == (True, 1)
    assert pushed == []
    assert not Activity.objects.exists()


def test_turning_likes_private_withdraws_the_visible_ones(users, video, pushed, django_capture_on_commit_callbacks):
    like_create(user=users["alice"], video=video)
    with django_capture_on_commit_callbacks(execute=True):
        user_set_share_likes(user=users["alice"], share_likes=False)
    assert [event["type"] for _, event in pushed] == ["retract"]
    assert Activity.objects.get(verb="like").retracted
