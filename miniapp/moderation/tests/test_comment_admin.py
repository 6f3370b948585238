import pytest

from miniapp.engagement.comments import comment_create
from miniapp.engagement.models import Comment
from miniapp.moderation.models import ModerationAction
from miniapp.videos.models import Video
from tests.fixtures.factories import make_video

pytestmark = pytest.mark.django_db


def test_a_moderator_hides_a_comment_with_its_replies(client, users, moderator):
    video = make_video(users["erin"])
    comment = comment_create(user=users["alice"], video=video, text="广告广告")
    comment_create(user=users["bob"], video=video, text="举报了", reply_to=comment)
    client.force_login(moderator)
    assert client.get("/admin/engagement/comment/").status_code == 200
    response = client.post(
        "/admin/engagement/comment/", {"action": "hide_comments", "_selected_action": [comment.pk]}, follow=True
    )
    assert "已隐藏评论：1 条。" in response.content.decode()  # one decision: the comment, its reply with it
    assert set(Comment.objects.values_list("status", flat=True)) == {Comment.Status.HIDDEN}
    assert Video.objects.get(pk=video.pk).comment_count == 0
    assert client.get(f"/api/videos/{video.pk}/comments/").json()["comments"] == []
    assert ModerationAction.objects.get().kind == ModerationAction.Kind.HIDE_COMMENT  # in the audit log


def test_users_without_the_permission_see_no_comments(client, users):
    users["alice"].is_staff = True
    users["alice"].save()
    client.force_login(users["alice"])
    assert client.get("/admin/engagement/comment/").status_code == 403
