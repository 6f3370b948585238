import threading
from datetime import UTC

import pytest
from django.db import connection, transaction

from miniapp.engagement.models import Activity, Like
from miniapp.engagement.services import like_create, like_delete, user_set_share_likes
from tests.fixtures.factories import make_video

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


@pytest.mark.django_db(transaction=True)
def test_twin_likes_at_once_make_one_like(users, video, pushed):
    """Two requests liking the same video at the same moment, each in its own transaction
    (as two workers would): one wins the unique constraint, the other changes nothing."""
    start = threading.Barrier(2)
    results = []

    def like():
        try:
            start.wait(timeout=10)
            results.append(like_create(user=users["alice"], video=video))
        finally:
            connection.close()

    threads = [threading.Thread(target=like) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert results == [(True, 1), (True, 1)]
    assert Like.objects.filter(user=users["alice"], video=video).count() == 1
    assert Activity.objects.filter(actor=users["alice"], video=video).count() == 1
    video.refresh_from_db()
    assert video.like_count == 1
    assert len(pushed) == 1


@pytest.mark.django_db(transaction=True)
def test_a_repeat_like_outside_any_transaction_undoes_its_own(users, video, pushed):
    """At the top level the like's transaction is the whole of it: the repeat's failed
    insert rolls it back, and the connection is fit for the next request."""
    like_create(user=users["alice"], video=video)
    assert like_create(user=users["alice"], video=video) == (True, 1)
    assert not connection.in_atomic_block
    assert Like.objects.count() == 1 and Activity.objects.count() == 1
    assert like_delete(user=users["alice"], video=video) == (False, 0)
    assert len(pushed) == 2  # the like, then its retraction


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
