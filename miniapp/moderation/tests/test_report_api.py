from datetime import timedelta

import pytest
from django.utils import timezone

from miniapp.moderation import services
from miniapp.moderation.models import LimitHit, ModerationAction, Report
from miniapp.moderation.selectors import open_report_weight
from miniapp.videos.models import Video
from tests.fixtures.factories import make_video

pytestmark = pytest.mark.django_db


@pytest.fixture
def video(users):
    return make_video(users["erin"])


def report(client, video, **payload):
    return client.post(f"/api/videos/{video.pk}/reports/", payload, content_type="application/json")


def test_a_report_is_filed_once_per_user_and_video(client, users, video):
    client.force_login(users["alice"])
    first = report(client, video, reason="spam", text="  加微信领红包  ")
    assert first.status_code == 201
    assert first.json()["reason"] == "spam" and first.json()["status"] == "open"
    again = report(client, video, reason="violence")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    saved = Report.objects.get()
    assert (saved.reporter, saved.reason, saved.text) == (users["alice"], "spam", "加微信领红包")


def test_after_a_report_is_resolved_the_user_may_report_again(client, users, video, moderator):
    client.force_login(users["alice"])
    report(client, video, reason="spam")
    services.reports_dismiss(reports=Report.objects.all(), moderator=moderator, reason="not spam")
    assert report(client, video, reason="spam").status_code == 201
    assert Report.objects.count() == 2


@pytest.mark.parametrize("payload", [{}, {"reason": "boring"}, {"reason": ["spam"]}])
def test_a_missing_or_unknown_reason_is_a_400_listing_the_choices(client, users, video, payload):
    client.force_login(users["alice"])
    response = report(client, video, **payload)
    assert response.status_code == 400
    assert "spam" in response.json()["reasons"] and response.json()["detail"]
    assert not Report.objects.exists()


def test_over_long_details_are_a_400_with_the_limit(client, users, video):
    client.force_login(users["alice"])
    response = report(client, video, reason="other", text="x" * 501)
    assert response.status_code == 400
    assert response.json()["limit"] == 500


@pytest.mark.parametrize("text", ["spam\u202e", "\x1b[31m", "\u2800"])
def test_details_with_invisible_or_control_characters_are_a_400(client, users, video, text):
    client.force_login(users["alice"])
    response = report(client, video, reason="other", text=text)
    assert response.status_code == 400
    assert "U+" in str(response.json())
    assert not Report.objects.exists()


@pytest.mark.parametrize("payload", [{"reason": "other", "text": 0}, {"reason": "other", "text": ["x"]}])
def test_details_that_are_not_text_are_a_400(client, users, video, payload):
    client.force_login(users["alice"])
    response = report(client, video, **payload)
    assert response.status_code == 400
    assert response.json()["detail"] and "limit" not in response.json()
    assert not Report.objects.exists()


def test_a_body_that_is_not_an_object_is_a_400(client, users, video):
    client.force_login(users["alice"])
    response = client.post(f"/api/videos/{video.pk}/reports/", ["spam"], content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"]


@pytest.mark.parametrize("status", [Video.Status.HIDDEN, Video.Status.REMOVED])
def test_a_video_already_down_cannot_be_reported(client, users, status):
    hidden = make_video(users["erin"], status=status)
    client.force_login(users["alice"])
    assert report(client, hidden, reason="spam").status_code == 404


def test_signed_out_visitors_are_asked_to_sign_in(client, video):
    response = report(client, video, reason="spam")
    assert response.status_code == 403 and response.json()["login_url"] == "/login/"


def test_reporting_needs_the_csrf_token(users, video):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(users["alice"])
    assert report(browser, video, reason="spam").status_code == 403


def test_report_flooding_is_rate_limited_and_noted(client, users, settings):
    settings.REPORT_RATE = "2/hour"
    client.force_login(users["alice"])
    videos = [make_video(users["erin"]) for _ in range(3)]
    assert [report(client, v, reason="spam").status_code for v in videos] == [201, 201, 429]
    assert list(LimitHit.objects.values_list("user__username", "scope")) == [("alice", "report")]


def test_enough_different_reporters_hide_the_video_pending_review(client, established, video, settings):
    users = established
    settings.REPORT_HIDE_AT = 3
    for name in ["alice", "bob", "bob", "carol"][:3]:
        client.force_login(users[name])
        report(client, video, reason="sexual")
    video.refresh_from_db()
    assert video.status == Video.Status.PUBLISHED  # bob twice is one reporter
    client.force_login(users["carol"])
    report(client, video, reason="sexual")
    video.refresh_from_db()
    assert video.status == Video.Status.HIDDEN
    action = ModerationAction.objects.get()
    assert (action.kind, action.automatic, action.moderator, action.video) == ("hide", True, None, video)
    assert "3" in action.reason
    assert Report.objects.filter(status=Report.Status.OPEN).count() == 3  # left for a moderator to review


def test_after_a_moderator_restores_a_video_reports_no_longer_hide_it(client, established, video, moderator, settings):
    users = established
    settings.REPORT_HIDE_AT = 2
    for name in ["alice", "bob"]:
        services.report_create(reporter=users[name], video=video, reason="spam")
    video.refresh_from_db()
    assert video.status == Video.Status.HIDDEN
    services.video_moderate(video=video, kind="restore", moderator=moderator, reason="not spam")
    for name in ["alice", "bob", "carol"]:
        services.report_create(reporter=users[name], video=video, reason="spam")
    video.refresh_from_db()
    assert video.status == Video.Status.PUBLISHED
    assert Report.objects.filter(status="open").count() == 3  # queued for a moderator


def fresh_identities(django_user_model, count: int) -> list:
    """Accounts made just now with no friends, as anyone can make any number of in mock mode."""
    return django_user_model.objects.bulk_create(django_user_model(username=f"sybil{n:02d}") for n in range(count))


def test_reports_from_fresh_identities_weigh_less(users, video, settings, django_user_model):
    assert (settings.REPORT_HIDE_AT, settings.REPORT_UNTRUSTED_WEIGHT) == (5, 0.2)
    sybils = fresh_identities(django_user_model, 25)
    for sybil in sybils[:24]:  # five of them were enough
        services.report_create(reporter=sybil, video=video, reason="spam")
    video.refresh_from_db()
    assert video.status == Video.Status.PUBLISHED
    services.report_create(reporter=sybils[24], video=video, reason="spam")  # 25 x 0.2
    video.refresh_from_db()
    assert video.status == Video.Status.HIDDEN
    assert ModerationAction.objects.get().reason.startswith("Reported by 25 users (weight 5)")


@pytest.mark.parametrize(
    ("days_old", "name", "weight"),
    [(30, "alice", 1), (30, "erin", 0.2), (6, "alice", 0.2), (7, "alice", 1)],  # erin has no friends
)
def test_a_report_weighs_1_from_an_account_old_enough_and_with_a_friend(
    users, video, django_user_model, days_old, name, weight
):
    joined = timezone.now() - timedelta(days=days_old, minutes=1)
    django_user_model.objects.filter(pk=users[name].pk).update(date_joined=joined)
    services.report_create(reporter=users[name], video=video, reason="spam")
    assert open_report_weight(video) == (1, weight)
