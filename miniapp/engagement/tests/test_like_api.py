import pytest
from django.test import Client

from miniapp.videos.models import Video
from tests.fixtures.factories import make_video

pytestmark = pytest.mark.django_db


@pytest.fixture
def video(users):
    return make_video(users["erin"])


def test_like_and_unlike_are_idempotent(client, users, video):
    client.force_login(users["alice"])
    url = f"/api/videos/{video.pk}/like/"
    assert client.post(url).json() == {"liked": True, "like_count": 1}
    assert client.post(url).json() == {"liked": True, "like_count": 1}
    assert client.delete(url).json() == {"liked": False, "like_count": 0}
    assert client.delete(url).json() == {"liked": False, "like_count": 0}


@pytest.mark.parametrize("status", [Video.Status.HIDDEN, Video.Status.REMOVED])
def test_hidden_videos_cannot_be_liked(client, users, status):
    hidden = make_video(users["erin"], status=status)
    client.force_login(users["alice"])
    response = client.post(f"/api/videos/{hidden.pk}/like/")
    assert response.status_code == 404
    assert response.json()["detail"]


def test_staff_cannot_like_hidden_videos_either(client, users):
    hidden = make_video(users["erin"], status=Video.Status.HIDDEN)
    users["alice"].is_staff = True
    users["alice"].save()
    client.force_login(users["alice"])
    assert client.post(f"/api/videos/{hidden.pk}/like/").status_code == 404


def test_a_missing_video_is_404(client, users):
    client.force_login(users["alice"])
    assert client.post("/api/videos/987654/like/").status_code == 404


def test_anonymous_gets_403_with_a_sign_in_hint(client, video):
    response = client.post(f"/api/videos/{video.pk}/like/")
    assert response.status_code == 403
    assert response.json()["login_url"] == "/login/"


def test_it_rejects_get(client, users, video):
    client.force_login(users["alice"])
    assert client.get(f"/api/videos/{video.pk}/like/").status_code == 405


def test_it_needs_csrf(users, video):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(users["alice"])
    assert strict.post(f"/api/videos/{video.pk}/like/").status_code == 403


def test_a_flood_of_likes_is_rate_limited(client, users, video, settings):
    settings.LIKE_RATE = "3/minute"
    client.force_login(users["alice"])
    url = f"/api/videos/{video.pk}/like/"
    statuses = [client.post(url).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    response = client.post(url)
    assert response.status_code == 429
    assert "Try again in" in client.post(url, HTTP_ACCEPT_LANGUAGE="en").json()["detail"]
    assert response.json()["retry_after"] > 0
    assert "秒" in response.json()["detail"]
    assert response["Retry-After"]
