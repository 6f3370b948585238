import pytest

from miniapp.engagement.services import like_create, like_delete
from tests.fixtures.factories import make_video

pytestmark = pytest.mark.django_db


@pytest.fixture
def videos(users):
    return [make_video(users["erin"], title=f"v{i}") for i in range(3)]


def test_latest_lists_standing_activities_oldest_first(client, users, videos):
    like_create(user=users["bob"], video=videos[0])
    like_create(user=users["carol"], video=videos[1])
    like_create(user=users["bob"], video=videos[2])
    like_delete(user=users["bob"], video=videos[2])
    client.force_login(users["alice"])
    body = client.get("/api/activity/").json()
    assert [(e["actor"]["name"], e["video"]["title"]) for e in body["results"]] == [("bob", "v0"), ("carol", "v1")]
    assert body["last_id"] > body["results"][-1]["id"]  # the retraction counts as a position too


def test_after_replays_activities_and_retractions_in_order(client, users, videos):
    like_create(user=users["bob"], video=videos[0])
    client.force_login(users["alice"])
    seen = client.get("/api/activity/").json()["last_id"]
    like_create(user=users["carol"], video=videos[1])
    like_delete(user=users["bob"], video=videos[0])
    like_create(user=users["dave"], video=videos[2])
    like_delete(user=users["dave"], video=videos[2])  # came and went: never shown
    body = client.get(f"/api/activity/?after={seen}").json()
    assert [e["type"] for e in body["results"]] == ["activity", "retract"]
    assert body["results"][0]["actor"]["name"] == "carol"
    assert body["next"] is None
    assert client.get(f"/api/activity/?after={body['last_id']}").json()["results"] == []


def test_strangers_never_see_anything(client, users, videos):
    like_create(user=users["bob"], video=videos[0])
    client.force_login(users["erin"])  # nobody's friend
    assert client.get("/api/activity/").json()["results"] == []
    assert client.get("/api/activity/?after=0").json()["results"] == []
    like_create(user=users["erin"], video=videos[1])
    client.force_login(users["bob"])  # bob is not erin's friend either
    assert [e["actor"]["name"] for e in client.get("/api/activity/?after=0").json()["results"]] == []


def test_it_pages(client, users, settings):
    settings.ACTIVITY_PAGE_SIZE = 2
    for _i in range(5):
        like_create(user=users["bob"], video=make_video(users["erin"]))
    client.force_login(users["alice"])
    first = client.get("/api/activity/?after=0").json()
    assert len(first["results"]) == 2 and first["next"]
    second = client.get(first["next"]).json()
    assert second["results"][0]["id"] > first["results"][-1]["id"]


@pytest.mark.parametrize("after", ["abc", "-1", "1.5", "1e3", "", str(2**63)])
def test_garbage_after_is_400(client, users, after):
    client.force_login(users["alice"])
    response = client.get(f"/api/activity/?after={after}")
    assert response.status_code == 400
    assert "after" in response.json()["detail"]


def test_anonymous_is_403(client, db):
    assert client.get("/api/activity/").status_code == 403


def test_an_empty_groups_is_400_not_false(client, users):
    """A query parameter sent empty is not one left out (DRF's form handling would say so)."""
    client.force_login(users["alice"])
    response = client.get("/api/activity/?groups=")
    assert response.status_code == 400 and "groups" in response.json()["detail"]
