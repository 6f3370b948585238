"""Deleting a user goes through the services: the counts of the videos they liked and
shared come down, their videos are removed, and friends' feeds drop their entries live."""

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client

from miniapp.accounts.models import User
from miniapp.engagement.models import Like
from miniapp.engagement.services import like_create, share_create
from miniapp.moderation import services
from miniapp.moderation.models import LimitHit, ModerationAction
from miniapp.videos import hotness
from miniapp.videos.models import Video
from tests.fixtures.factories import make_video

Kind = ModerationAction.Kind


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser(username="root", password="x")


@pytest.fixture
def alices_world(users, liked_video):
    """alice liked erin's video (so did bob) and shared it with bob; bob liked alice's own video."""
    share_create(sharer=users["alice"], video=liked_video, recipients=[users["bob"]], note="看看")
    own = make_video(users["alice"], title="alice 的麦田")
    like_create(user=users["bob"], video=own)
    return liked_video, own


@pytest.mark.django_db
def test_the_counts_come_down_and_nothing_of_theirs_is_left(
    users, superuser, alices_world, settings, tmp_path, django_capture_on_commit_callbacks
):
    video, own = alices_world
    video.refresh_from_db()
    assert (video.like_count, video.share_count) == (2, 1)
    settings.MEDIA_ROOT = tmp_path
    names = ("v.mp4", "p.jpg", "p.webp", "c.jpg")
    files = [default_storage.save(f"videos/{own.pk}/{name}", ContentFile(b"x")) for name in names]
    Video.objects.filter(pk=own.pk).update(file=files[0], poster=files[1], poster_webp=files[2], card=files[3])

    with django_capture_on_commit_callbacks(execute=True):
        services.user_delete(user=users["alice"], moderator=superuser, reason="asked to")

    video.refresh_from_db()
    assert (video.like_count, video.share_count) == (1, 0)
    bobs = Like.objects.get(video=video, user=users["bob"])
    assert video.hot == pytest.approx(hotness.score(video.created, [bobs.created]))
    assert not User.objects.filter(username="alice").exists()
    assert not Video.objects.filter(pk=own.pk).exists()
    assert not any(default_storage.exists(name) for name in files)
    deletion = ModerationAction.objects.get(kind=Kind.DELETE)
    assert (deletion.subject, deletion.user, deletion.moderator) == ("alice", None, superuser)
    removal = ModerationAction.objects.get(kind=Kind.REMOVE)
    assert removal.subject == "alice 的麦田" and removal.reason == "asked to"


@pytest.mark.django_db
def test_nobody_deletes_themselves_and_only_superusers_delete_staff(users, moderator, superuser):
    other = User.objects.create_user(username="mod2")
    services.moderator_make(user=other)
    with pytest.raises(PermissionDenied):
        services.user_delete(user=moderator, moderator=moderator, reason="x")
    with pytest.raises(PermissionDenied):
        services.user_delete(user=other, moderator=moderator, reason="x")
    assert User.objects.filter(pk__in=[moderator.pk, other.pk]).count() == 2
    services.user_delete(user=other, moderator=superuser, reason="x")
    assert not User.objects.filter(pk=other.pk).exists()


@pytest.mark.django_db
def test_admin_deletes_through_the_service(users, superuser, moderator, alices_world):
    video, _own = alices_world
    client = Client()
    client.force_login(superuser)
    alice = users["alice"]
    # What goes with her account cannot be deleted in admin on its own: a ban, a report, a
    # limit hit. The service deals with them.
    services.user_ban(user=alice, moderator=moderator, reason="spam")
    services.report_create(reporter=alice, video=make_video(users["erin"]), reason="spam")
    LimitHit.objects.create(user=alice, scope="like")
    assert client.post(f"/admin/accounts/user/{alice.pk}/delete/", {"post": "yes"}).status_code == 302
    video.refresh_from_db()
    assert (video.like_count, video.share_count) == (1, 0)
    assert ModerationAction.objects.filter(kind=Kind.DELETE, subject="alice").exists()

    # The bulk action too. With their own account among the selected, its confirmation
    # page says they may not, and nothing is deleted.
    bob = users["bob"]
    both = {"action": "delete_selected", "_selected_action": [bob.pk, superuser.pk]}
    assert client.post("/admin/accounts/user/", both).context["perms_lacking"]
    assert client.post("/admin/accounts/user/", {**both, "post": "yes"}).status_code == 403
    assert User.objects.filter(pk=bob.pk).exists()
    response = client.post(
        "/admin/accounts/user/", {"action": "delete_selected", "_selected_action": [bob.pk], "post": "yes"}
    )
    assert response.status_code == 302 and not User.objects.filter(pk=bob.pk).exists()
    video.refresh_from_db()
    assert video.like_count == 0
    # Their own account offers no delete at all.
    assert client.get(f"/admin/accounts/user/{superuser.pk}/delete/").status_code == 403


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_friends_open_feeds_drop_the_entries_at_once(users, open_socket, db_call):
    superuser = await db_call(User.objects.create_superuser, username="root", password="x")
    video = await db_call(make_video, users["erin"], title="老王收麦子")
    own = await db_call(make_video, users["alice"], title="alice 的麦田")
    bob = await open_socket(users["bob"])
    await db_call(like_create, user=users["alice"], video=video)
    liked = await bob.receive()

    await db_call(services.user_delete, user=users["alice"], moderator=superuser, reason="x")
    received = [await bob.receive(), await bob.receive()]
    assert {"type": "video_gone", "video": own.pk} in received
    retract = next(event for event in received if event["type"] == "retract")
    assert retract["id"] == liked["id"]
    await bob.close()


@pytest.mark.django_db
def test_their_comments_go_with_the_replies_under_them_and_the_counts_come_down(users, superuser, liked_video):
    from miniapp.engagement.comments import comment_create
    from miniapp.engagement.models import Activity, Comment

    theirs = comment_create(user=users["alice"], video=liked_video, text="alice 的评论")
    comment_create(user=users["bob"], video=liked_video, text="bob 回复 alice", reply_to=theirs)
    kept = comment_create(user=users["carol"], video=liked_video, text="carol 的评论")
    assert Video.objects.get(pk=liked_video.pk).comment_count == 3
    services.user_delete(user=users["alice"], moderator=superuser, reason="asked to")
    assert Video.objects.get(pk=liked_video.pk).comment_count == 1
    assert list(Comment.objects.filter(status=Comment.Status.VISIBLE)) == [kept]
    # bob's reply went from his friends' 好友动态 with it (retracted, then deleted with its comment).
    assert not Activity.objects.filter(verb=Activity.Verb.COMMENT, actor=users["bob"], retracted=False).exists()
