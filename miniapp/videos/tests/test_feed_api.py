from datetime import timedelta

import pytest
from django.utils import timezone

from miniapp.videos.models import Video
from tests.fixtures.factories import make_video

pytestmark = pytest.mark.django_db

FIELDS = {
    "id",
    "title",
    "author",
    "video_url",
    "poster_url",
    "duration",
    "like_count",
    "share_count",
    "liked_by_me",
    "friends_who_liked",
}


def test_it_lists_published_videos_newest_first(client, users):
    now = timezone.now()
    old = make_video(users["bob"], title="old", created=now - timedelta(hours=2))
    new = make_video(users["bob"], title="new", created=now)
    make_video(users["bob"], title="hidden", status=Video.Status.HIDDEN)
    make_video(users["bob"], title="removed", status=Video.Status.REMOVED)
    body = client.get("/api/videos/").json()
    assert [v["id"] for v in body["results"]] == [new.pk, old.pk]
    card = body["results"][0]
    assert set(card) >= FIELDS
    assert card["author"] == {"id": users["bob"].pk, "name": "bob", "avatar": users["bob"].avatar_url}
    assert card["video_url"].startswith("http://testserver/media/videos/")
    assert card["liked_by_me"] is False and card["friends_who_liked"] == []


def test_it_pages_with_a_cursor(client, users):
    made = [make_video(users["bob"]) for _ in range(20)]
    first = client.get("/api/videos/").json()
    second = client.get(first["next"]).json()
    seen = [v["id"] for v in first["results"] + second["results"]]
    assert len(seen) == len(set(seen)) == 16
    assert seen == sorted((v.pk for v in made), reverse=True)[:16]


def test_it_says_which_friends_liked_and_whether_i_did(client, users):
    video = make_video(users["erin"], likes=[users["alice"], users["bob"], users["carol"], users["erin"]])
    client.force_login(users["alice"])
    card = client.get(f"/api/videos/{video.pk}/").json()
    assert card["liked_by_me"] is True
    assert card["friends_liked_count"] == 2
    assert sorted(f["name"] for f in card["friends_who_liked"]) == ["bob", "carol"]  # erin is no friend of alice
    client.force_login(users["erin"])
    assert client.get(f"/api/videos/{video.pk}/").json()["friends_who_liked"] == []


def test_hidden_and_missing_videos_are_404(client, users):
    hidden = make_video(users["bob"], status=Video.Status.HIDDEN)
    for url in [f"/api/videos/{hidden.pk}/", "/api/videos/999999/"]:
        response = client.get(url)
        assert response.status_code == 404
        assert response.json()["detail"]


def test_staff_open_a_hidden_video_by_id_but_the_feed_stays_published_only(client, users):
    hidden = make_video(users["bob"], status=Video.Status.HIDDEN)
    staff = users["erin"]
    staff.is_staff = True
    staff.save()
    client.force_login(staff)
    assert client.get(f"/api/videos/{hidden.pk}/").json()["status"] == "hidden"
    assert hidden.pk not in [v["id"] for v in client.get("/api/videos/").json()["results"]]


def test_detail_rejects_post(client, users):
    video = make_video(users["bob"])
    client.force_login(users["alice"])
    assert client.post(f"/api/videos/{video.pk}/").status_code == 405
