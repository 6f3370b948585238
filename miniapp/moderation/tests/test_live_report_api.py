"""POST /api/lives/{id}/reports/: a live is reported as a video is, and the report waits for a moderator."""

import pytest
from django.test import Client

from miniapp.lives.models import Live
from miniapp.moderation.models import LimitHit, ModerationAction, Report
from tests.fixtures.factories import make_video
from tests.fixtures.personas import english

pytestmark = pytest.mark.django_db


def report(client, live_id, **payload):
    return client.post(f"/api/lives/{live_id}/reports/", payload, content_type="application/json")


def test_it_files_a_report_of_the_live(client, users, clip_live):
    client.force_login(users["alice"])
    response = report(client, clip_live.pk, reason="violence", text="  打架  ")
    assert response.status_code == 201
    assert response.json()["reason"] == "violence" and response.json()["status"] == "open"
    saved = Report.objects.get()
    assert (saved.live, saved.video, saved.reporter, saved.text) == (clip_live, None, users["alice"], "打架")


def test_a_repeat_answers_the_open_report_as_for_a_video(client, users, clip_live):
    client.force_login(users["alice"])
    first = report(client, clip_live.pk, reason="spam")
    again = report(client, clip_live.pk, reason="violence")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert again.json()["reason"] == "spam"
    assert Report.objects.count() == 1
    video = make_video(users["erin"])  # the same answer as a video's repeat
    client.post(f"/api/videos/{video.pk}/reports/", {"reason": "spam"}, content_type="application/json")
    repeat = client.post(f"/api/videos/{video.pk}/reports/", {"reason": "spam"}, content_type="application/json")
    assert repeat.status_code == again.status_code


def test_reports_queue_for_a_moderator_and_never_end_the_live(established, clip_live, settings):
    settings.REPORT_HIDE_AT = 2
    for name in ["alice", "bob", "dave"]:
        client = Client()
        client.force_login(established[name])
        assert report(client, clip_live.pk, reason="sexual").status_code == 201
    assert Live.objects.get(pk=clip_live.pk).status == "live"
    assert not ModerationAction.objects.exists()
    assert Report.objects.filter(live=clip_live, status="open").count() == 3


def test_a_live_that_has_ended_can_still_be_reported(client, users, clip_live):
    from miniapp.lives.services import live_end

    live_end(live=clip_live)
    client.force_login(users["alice"])
    assert report(client, clip_live.pk, reason="harassment").status_code == 201


def test_a_missing_live_is_a_404(client, users):
    client.force_login(users["alice"])
    assert report(client, 999999, reason="spam").status_code == 404


def test_signed_out_visitors_are_asked_to_sign_in(client, clip_live):
    response = report(client, clip_live.pk, reason="spam")
    assert response.status_code == 403 and response.json()["login_url"] == "/login/"
    assert not Report.objects.exists()


@pytest.mark.parametrize("payload", [{}, {"reason": "boring"}])
def test_a_missing_or_unknown_reason_is_a_400_listing_the_choices(client, users, clip_live, payload):
    client.force_login(users["alice"])
    response = report(english(client), clip_live.pk, **payload)
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Choose a reason: one of spam, sexual")
    assert "violence" in response.json()["reasons"]
    assert not Report.objects.exists()


def test_over_long_details_are_a_400_with_the_limit(client, users, clip_live):
    client.force_login(users["alice"])
    response = report(client, clip_live.pk, reason="other", text="x" * 501)
    assert response.status_code == 400 and response.json()["limit"] == 500


def test_a_banned_user_cannot_report(client, users, clip_live, moderator):
    from miniapp.moderation.services import user_ban

    user_ban(user=users["alice"], moderator=moderator, reason="刷屏")
    client.force_login(users["alice"])
    response = report(client, clip_live.pk, reason="spam")
    assert response.status_code == 403 and "刷屏" in response.json()["detail"]


def test_reports_of_lives_and_videos_share_the_rate_limit(client, users, clip_live, settings):
    settings.REPORT_RATE = "2/hour"
    client.force_login(users["alice"])
    video = make_video(users["erin"])
    assert (
        client.post(f"/api/videos/{video.pk}/reports/", {"reason": "spam"}, content_type="application/json").status_code
        == 201
    )
    assert report(client, clip_live.pk, reason="spam").status_code == 201
    assert report(client, clip_live.pk, reason="spam").status_code == 429
    assert list(LimitHit.objects.values_list("user__username", "scope")) == [("alice", "report")]


def test_it_rejects_get(client, users, clip_live):
    client.force_login(users["alice"])
    assert client.get(f"/api/lives/{clip_live.pk}/reports/").status_code == 405


def test_a_report_is_of_a_video_or_a_live_never_both_or_neither(users, clip_live):
    from django.db import IntegrityError, transaction

    video = make_video(users["erin"])
    for target in [{"video": video, "live": clip_live}, {}]:
        with pytest.raises(IntegrityError), transaction.atomic():
            Report.objects.create(reporter=users["alice"], reason="spam", **target)
