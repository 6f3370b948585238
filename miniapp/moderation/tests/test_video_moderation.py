import pytest

from miniapp.engagement.models import Activity
from miniapp.moderation import services
from miniapp.moderation.models import ModerationAction, Report
from miniapp.videos.models import Video

pytestmark = pytest.mark.django_db

Kind = ModerationAction.Kind


@pytest.fixture
def pushed(monkeypatch):
    from miniapp.realtime import events

    sent = []
    monkeypatch.setattr(events, "publish", lambda deliveries: sent.extend(deliveries))
    return sent


def test_hiding_withdraws_every_like_live_and_tells_every_page(
    users, moderator, liked_video, pushed, django_capture_on_commit_callbacks
):
    likes = list(Activity.objects.filter(video=liked_video, verb="like").values_list("pk", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.video_moderate(video=liked_video, kind=Kind.HIDE, moderator=moderator, reason="spam")
    liked_video.refresh_from_db()
    assert liked_video.status == Video.Status.HIDDEN
    retracts = {event["id"]: sorted(recipients) for recipients, event in pushed if event["type"] == "retract"}
    assert set(retracts) == set(likes)
    alice, bob = users["alice"], users["bob"]
    by_actor = dict(Activity.objects.filter(pk__in=likes).values_list("actor_id", "pk"))
    assert retracts[by_actor[alice.pk]] == sorted(u.pk for u in [bob, users["carol"], users["dave"]])
    assert retracts[by_actor[bob.pk]] == [alice.pk]
    assert (None, {"type": "video_gone", "video": liked_video.pk}) in pushed
    assert not Activity.objects.filter(video=liked_video, verb="like", retracted=False).exists()


def test_a_hidden_video_leaves_the_feed_the_api_and_its_share_links(client, users, moderator, liked_video):
    from miniapp.engagement.services import share_create

    share, _ = share_create(sharer=users["alice"], video=liked_video, recipients=[users["bob"]], note="看")
    services.video_moderate(video=liked_video, kind=Kind.REMOVE, moderator=moderator, reason="illegal")
    assert liked_video.pk not in [v["id"] for v in client.get("/api/videos/").json()["results"]]
    assert client.get(f"/api/videos/{liked_video.pk}/").status_code == 404
    page = client.get(f"/v/{liked_video.pk}/?s={share.token}")
    assert page.status_code == 404 and "不可用" in page.content.decode()
    client.force_login(users["bob"])
    assert client.get("/api/activity/").json()["results"] == []  # the share to bob is withdrawn too


def test_a_decision_on_a_video_already_so_changes_nothing(users, moderator, liked_video):
    assert services.video_moderate(video=liked_video, kind=Kind.REMOVE, moderator=moderator, reason="rules")
    assert not services.video_moderate(video=liked_video, kind=Kind.REMOVE, moderator=moderator, reason="again")
    assert not services.video_moderate(video=liked_video, kind=Kind.HIDE, moderator=moderator, reason="less")
    assert ModerationAction.objects.count() == 1
    assert not services.video_moderate(
        video=Video.objects.get(pk=liked_video.pk), kind=Kind.REMOVE, moderator=moderator, reason="x"
    )


def test_restoring_publishes_again_and_closes_the_reports(users, moderator, liked_video):
    services.report_create(reporter=users["carol"], video=liked_video, reason="spam")
    services.video_moderate(video=liked_video, kind=Kind.HIDE, moderator=None, reason="auto")
    assert Report.objects.get().status == Report.Status.OPEN  # the automatic hide leaves it for review
    assert services.video_moderate(video=liked_video, kind=Kind.RESTORE, moderator=moderator, reason="fine")
    liked_video.refresh_from_db()
    assert liked_video.status == Video.Status.PUBLISHED
    closed = Report.objects.get()
    assert (closed.status, closed.outcome, closed.resolved_by) == ("resolved", "restore", moderator)
    kinds = list(ModerationAction.objects.order_by("created", "pk").values_list("kind", "automatic"))
    assert kinds == [("hide", True), ("restore", False)]


def test_every_decision_is_in_the_audit_log_with_who_what_why_and_when(users, moderator, liked_video):
    services.video_moderate(video=liked_video, kind=Kind.HIDE, moderator=moderator, reason="<b>spam</b>")
    action = ModerationAction.objects.get()
    assert (action.kind, action.moderator, action.automatic) == ("hide", moderator, False)
    assert (action.video, action.user, action.subject) == (liked_video, users["erin"], "老王收麦子")
    assert action.reason == "<b>spam</b>" and action.created
