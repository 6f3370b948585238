import pytest

from miniapp.moderation.limits import LikeRateThrottle
from miniapp.moderation.models import LimitHit
from tests.fixtures.factories import make_video

pytestmark = pytest.mark.django_db


def test_a_throttle_only_counts(rf, users, settings):
    settings.LIKE_RATE = "1/hour"
    request = rf.post("/")
    request.user = users["alice"]
    assert [LikeRateThrottle().allow_request(request, None) for _ in range(2)] == [True, False]
    assert not LimitHit.objects.exists()


def test_the_api_notes_each_refusal_by_an_abuse_limit_but_not_by_the_view_rate(client, users, settings):
    settings.LIKE_RATE, settings.VIEW_RATE = "1/hour", "1/hour"
    client.force_login(users["alice"])
    video = make_video(users["erin"])
    likes = [client.post(f"/api/videos/{video.pk}/like/") for _ in range(2)]
    views = [
        client.post(f"/api/videos/{video.pk}/views/", {"seconds": 5}, content_type="application/json") for _ in range(2)
    ]
    assert [answer.status_code for answer in likes + views] == [200, 429, 200, 429]
    assert likes[1]["Retry-After"] and likes[1].json()["retry_after"] > 0
    assert list(LimitHit.objects.values_list("user__username", "scope")) == [("alice", "like")]
