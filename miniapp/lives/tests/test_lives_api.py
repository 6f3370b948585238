"""The live API: announcing (one of my published videos as the source), the host starting and
ending it, the states, who may, and what a bad request is told."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from miniapp.lives.models import Live
from miniapp.lives.services import live_create, live_start
from tests.fixtures.factories import make_video
from tests.fixtures.personas import english, signed_in_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(users):
    return english(signed_in_client(users["alice"]))


@pytest.fixture
def clip(users):
    return make_video(users["alice"], title="广场舞")


def announce(client, **body):
    return client.post("/api/lives/", body, content_type="application/json")


def test_a_live_goes_from_announced_to_on_air_to_ended(alice, clip):
    created = announce(alice, title="  广场舞直播 ", video=clip.pk)
    assert created.status_code == 201, created.content
    live = created.json()
    assert live["status"] == "scheduled" and live["title"] == "广场舞直播" and live["hls_url"] is None
    assert live["host"]["name"] == "alice" and live["page_url"] == f"/live/{live['id']}/"

    started = alice.post(f"/api/lives/{live['id']}/start/")
    assert started.status_code == 200 and started.json()["status"] == "live"
    key = Live.objects.get().key.hex
    assert started.json()["hls_url"] == f"/media/lives/{key}/index.m3u8"
    assert alice.post(f"/api/lives/{live['id']}/start/").json()["status"] == "live"  # again: no change

    ended = alice.post(f"/api/lives/{live['id']}/end/").json()
    assert ended["status"] == "ended" and ended["ended"]
    assert ended["replay"]["id"] == clip.pk  # a clip live's replay is its clip
    again = alice.post(f"/api/lives/{live['id']}/start/")
    assert again.status_code == 400 and "ended" in again.json()["detail"]


def test_only_the_host_starts_or_ends_it_and_anyone_reads_it(alice, clip, users):
    live = announce(alice, title="直播", video=clip.pk).json()
    bob = english(signed_in_client(users["bob"]))
    for action in ("start", "end"):
        refused = bob.post(f"/api/lives/{live['id']}/{action}/")
        assert refused.status_code == 403 and "host" in refused.json()["detail"]
    assert Client().post(f"/api/lives/{live['id']}/start/").status_code == 403
    assert Client().get(f"/api/lives/{live['id']}/").json()["title"] == "直播"
    assert Client().get("/api/lives/999999/").status_code == 404


def test_announcing_refuses_what_cannot_be_a_live(alice, clip, users):
    bobs = make_video(users["bob"])
    hidden = make_video(users["alice"], status="hidden")
    for body, words in [
        ({"title": "x", "video": bobs.pk}, "own published"),
        ({"title": "x", "video": hidden.pk}, "own published"),
        ({"title": "x", "keep_replay": "maybe"}, "keep_replay"),
        ({"title": "", "video": clip.pk}, "title"),
        ({"title": "x" * 61, "video": clip.pk}, "title"),
        ({"title": "a\nb", "video": clip.pk}, "title"),
        ({"title": "x", "video": clip.pk, "starts_at": (timezone.now() - timedelta(hours=1)).isoformat()}, "30 days"),
        ({"title": "x", "video": clip.pk, "starts_at": (timezone.now() + timedelta(days=31)).isoformat()}, "30 days"),
        ({"title": "x", "video": clip.pk, "starts_at": "tomorrow"}, "starts_at"),
        ({"title": "x", "video": 2**63}, "video"),  # past any row's id (SQLite could not even look)
        ({"title": "x", "video": clip.pk, "groups": [2**64]}, "groups"),
    ]:
        answer = announce(alice, **body)
        assert answer.status_code == 400, (body, answer.content)
        assert words in answer.json()["detail"], (body, answer.json())
    assert not Live.objects.exists()
    assert announce(Client(), title="x", video=clip.pk).status_code == 403


def test_a_banned_user_cannot_go_live_and_their_lives_end(alice, clip, users):
    from miniapp.moderation.services import user_ban

    live = announce(alice, title="直播", video=clip.pk).json()
    alice.post(f"/api/lives/{live['id']}/start/")
    user_ban(user=users["alice"], moderator=None, reason="spam", until=timezone.now() + timedelta(hours=1))
    ended = Client().get(f"/api/lives/{live['id']}/").json()
    assert ended["status"] == "ended" and "suspended" in ended["end_reason"]
    assert ended["replay"] is None  # a suspended host's live leaves no replay

    users["alice"].refresh_from_db()
    again = english(signed_in_client(users["alice"]))  # the ban signed her out; signed in again, she may watch
    refused = announce(again, title="again", video=clip.pk)
    assert refused.status_code == 403 and "suspended" in refused.json()["detail"]


def test_a_camera_live_is_announced_without_a_video_and_shows_paused_until_its_camera_sends(alice):
    live = announce(alice, title="村口直播", keep_replay=False).json()
    assert live["source"] == "camera" and live["keep_replay"] is False and live["paused"] is False
    started = alice.post(f"/api/lives/{live['id']}/start/").json()
    assert started["status"] == "live" and started["paused"] is False  # just started: not yet
    Live.objects.filter(pk=live["id"]).update(started=timezone.now() - timedelta(seconds=5))
    assert Client().get(f"/api/lives/{live['id']}/").json()["paused"] is True  # 主播暂时离开
    Live.objects.filter(pk=live["id"]).update(runner_beat=timezone.now())
    assert Client().get(f"/api/lives/{live['id']}/").json()["paused"] is False


def test_lives_of_friends_and_group_mates_come_first_for_each_viewer(users, groups):
    carols = live_start(live=live_create(host=users["carol"], title="carol's"))  # bob's group mate (王家村)
    Live.objects.filter(pk=carols.pk).update(started=timezone.now() - timedelta(minutes=5))
    live_start(live=live_create(host=users["dave"], title="dave's"))  # nobody bob knows; started last
    live_create(host=users["alice"], title="announced")

    def listed(client, query=""):
        return [(live["title"], live["near"]) for live in client.get(f"/api/lives/{query}").json()["results"]]

    bob = signed_in_client(users["bob"])
    assert listed(bob) == [("carol's", True), ("dave's", False), ("announced", True)]  # alice: his friend
    assert listed(bob, "?status=live") == [("carol's", True), ("dave's", False)]
    assert "live" in english(bob).get("/api/lives/?status=ended").json()["detail"]  # 400: only "live"
    assert listed(Client()) == [("dave's", False), ("carol's", False), ("announced", False)]  # signed out: latest first
    alice = signed_in_client(users["alice"])  # friends with both
    assert [title for title, _ in listed(alice, "?status=live")] == ["dave's", "carol's"]


def test_a_live_announced_in_groups_is_a_post_there_for_members_only(alice, clip, users, groups):
    village, family = groups["王家村"], groups["家族群"]
    created = announce(alice, title="今晚直播", video=clip.pk, groups=[village.pk, family.pk])
    assert created.status_code == 201, created.content
    live_id = created.json()["id"]

    erin = signed_in_client(users["erin"])  # in 王家村, nobody's friend
    posts = erin.get(f"/api/groups/{village.pk}/posts/").json()["results"]
    assert [post["kind"] for post in posts] == ["live"]
    post = posts[0]
    assert post["video"] is None and post["author"]["name"] == "alice" and post["url"] == f"/live/{live_id}/"
    assert post["live"] == {"id": live_id, "title": "今晚直播", "status": "scheduled", "starts_at": None}
    assert erin.get(f"/api/groups/{family.pk}/posts/").status_code == 404  # not hers
    listed = {group["id"]: group for group in erin.get("/api/groups/").json()["groups"]}
    assert listed[village.pk]["last_post"]["kind"] == "live" and listed[village.pk]["unread"] == 1

    reported = erin.post(
        f"/api/groups/{village.pk}/posts/{post['id']}/reports/", {"reason": "spam"}, content_type="application/json"
    )
    assert reported.status_code == 201, reported.content  # the live is what is reported, from its post
    from miniapp.moderation.models import Report

    assert Report.objects.get().live_id == live_id and Report.objects.get().post_id == post["id"]

    alice.post(f"/api/lives/{live_id}/start/")  # the card shows the live's state as it is now
    dave = signed_in_client(users["dave"])
    assert dave.get(f"/api/groups/{family.pk}/posts/").json()["results"][0]["live"]["status"] == "live"

    from miniapp.moderation.services import user_ban

    user_ban(user=users["alice"], moderator=None, reason="spam")  # her posts are withdrawn, the live's too
    assert dave.get(f"/api/groups/{family.pk}/posts/").json()["results"] == []


def test_a_live_is_announced_only_in_the_hosts_own_groups(alice, clip, users, groups):
    bobs_only = groups["家族群"]  # alice and dave: bob is not in it
    bob = english(signed_in_client(users["bob"]))
    refused = announce(bob, title="x", groups=[bobs_only.pk, 999999])
    assert refused.status_code == 400
    assert refused.json()["not_member"] == [bobs_only.pk, 999999] and "groups you are in" in refused.json()["detail"]
    assert not Live.objects.exists()  # nothing made
    bad = announce(bob, title="x", groups=[1, "family"])
    assert bad.status_code == 400 and bad.json()["detail"].startswith("groups: ")


def test_the_list_puts_lives_on_air_first_then_announced_and_leaves_out_ended(alice, clip, users):
    soon = announce(alice, title="soon", video=clip.pk, starts_at=(timezone.now() + timedelta(hours=1)).isoformat())
    later = announce(alice, title="later", video=clip.pk, starts_at=(timezone.now() + timedelta(hours=5)).isoformat())
    on_air = announce(alice, title="on air", video=clip.pk).json()
    alice.post(f"/api/lives/{on_air['id']}/start/")
    over = announce(alice, title="over", video=clip.pk).json()
    alice.post(f"/api/lives/{over['id']}/end/")
    titles = [live["title"] for live in Client().get("/api/lives/").json()["results"]]
    assert titles == ["on air", "soon", "later"]
    assert soon.status_code == later.status_code == 201


def test_a_live_page_opens_for_anyone_with_its_open_graph_tags(alice, clip):
    live = announce(alice, title="广场舞 <直播>", video=clip.pk).json()
    page = Client().get(live["page_url"])
    html = page.content.decode()
    assert page.status_code == 200
    assert 'property="og:title" content="广场舞 &lt;直播&gt;"' in html
    assert "live.js" in html
    assert Client().get("/live/999999/").status_code == 404


def test_a_live_room_has_a_qr_code_of_its_link_for_anyone(alice, clip):
    live = announce(alice, title="直播", video=clip.pk).json()
    qr = Client().get(f"/live/{live['id']}/qr.svg")
    assert qr.status_code == 200 and qr["Content-Type"] == "image/svg+xml" and b"<svg" in qr.content
    assert Client().get("/live/999999/qr.svg").status_code == 404
    page = Client().get(live["page_url"]).content.decode()
    assert f"/live/{live['id']}/qr.svg" in page and "live-share-sheet" in page
