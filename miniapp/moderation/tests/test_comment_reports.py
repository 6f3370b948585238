import pytest
from django.test import Client

from miniapp.engagement.comments import comment_create
from miniapp.engagement.models import Comment
from miniapp.moderation.models import ModerationAction, Report
from miniapp.videos.models import Video
from tests.fixtures.factories import make_video

pytestmark = pytest.mark.django_db


@pytest.fixture
def comment(users):
    return comment_create(user=users["erin"], video=make_video(users["alice"]), text="加我微信领红包")


def report(client, comment, reason="spam"):
    return client.post(f"/api/comments/{comment.pk}/reports/", {"reason": reason}, content_type="application/json")


@pytest.fixture
def reported(users, comment):
    """`comment`, reported by bob."""
    bob = Client()
    bob.force_login(users["bob"])
    report(bob, comment)
    return comment


@pytest.fixture
def desk(moderator):
    """The moderator's browser, signed in to the admin."""
    client = Client()
    client.force_login(moderator)
    return client


def test_a_comment_is_reported_once_per_user_and_never_hides_its_video(client, users, comment, settings):
    settings.REPORT_HIDE_AT = 0.01  # a single report of the video would hide it
    client.force_login(users["bob"])
    first = report(client, comment)
    assert first.status_code == 201
    assert report(client, comment).status_code == 200  # the open report again
    assert Report.objects.get().comment == comment and Report.objects.get().video == comment.video
    assert Video.objects.get(pk=comment.video_id).status == Video.Status.PUBLISHED
    # The video's own report by the same user is another report.
    assert (
        client.post(
            f"/api/videos/{comment.video_id}/reports/", {"reason": "spam"}, content_type="application/json"
        ).status_code
        == 201
    )
    assert Video.objects.get(pk=comment.video_id).status == Video.Status.HIDDEN  # by its own report
    assert Comment.objects.get(pk=comment.pk).status == Comment.Status.VISIBLE


def test_reporting_a_comment_that_went_or_signed_out_is_refused(client, users, comment):
    assert report(client, comment).status_code in (401, 403)
    client.force_login(users["bob"])
    assert report(client, comment, reason="nonsense").status_code == 400
    comment.status = Comment.Status.DELETED
    comment.save()
    assert report(client, comment).status_code == 404


def test_a_moderator_hides_a_reported_comment_from_the_queue(reported, desk):
    comment = reported
    queue = desk.get("/admin/moderation/report/").content.decode()
    assert "加我微信领红包" in queue
    desk.post("/admin/moderation/report/", {"action": "hide_comments", "_selected_action": [Report.objects.get().pk]})
    assert Comment.objects.get(pk=comment.pk).status == Comment.Status.HIDDEN
    assert Report.objects.get().status == Report.Status.RESOLVED
    assert ModerationAction.objects.get().kind == ModerationAction.Kind.HIDE_COMMENT
    assert Video.objects.get(pk=comment.video_id).status == Video.Status.PUBLISHED  # the video stays up


def test_the_queues_video_decisions_and_counts_leave_comment_reports_alone(reported, desk):
    comment = reported
    queue = desk.get("/admin/moderation/report/").content.decode()
    assert 'class="field-target_open_reports">0<' in queue  # the video has no report of its own
    desk.post(
        "/admin/moderation/report/",
        {"action": "hide_videos", "_selected_action": [Report.objects.get().pk]},
        follow=True,
    )
    assert Video.objects.get(pk=comment.video_id).status == Video.Status.PUBLISHED  # a comment's report
    assert Report.objects.get().status == Report.Status.OPEN


def test_hiding_a_comment_its_author_deleted_still_closes_its_reports(reported, moderator):
    from miniapp.engagement.comments import comment_remove
    from miniapp.moderation.services import comment_hide

    comment = reported
    comment_remove(comment=comment)  # its author deleted it meanwhile
    assert comment_hide(comment=comment, moderator=moderator, reason="spam") is False
    assert Report.objects.get().status == Report.Status.RESOLVED
    assert not ModerationAction.objects.exists()  # nothing was hidden, nothing to log
