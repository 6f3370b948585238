"""Groups (社群) through the API: sharing into them, their posts, read positions and unread counts."""

import pytest

from miniapp.accounts.models import Membership
from miniapp.engagement import services
from miniapp.engagement.models import Activity, Like, View
from miniapp.engagement.selectors import UNREAD_CAP, unread_total
from miniapp.videos.models import Video
from tests.fixtures.factories import make_video
from tests.fixtures.personas import signed_in_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def video(users):
    return make_video(users["carol"], title="老王的葡萄")


def share(client, video, **body):
    return client.post(f"/api/videos/{video.pk}/shares/", body, content_type="application/json")


def test_a_share_into_a_group_is_one_post_there_with_its_own_link(users, groups, video):
    village = groups["王家村"]
    response = share(signed_in_client(users["alice"]), video, groups=[village.pk], note="这是我们村的老王")
    assert response.status_code == 201, response.json()
    body = response.json()
    post = Activity.objects.get(group=village)
    assert body["groups"] == [{"id": village.pk, "post": post.pk}]
    assert body["token"] == post.share.token and body["recipients"] == 0
    assert (post.actor, post.note, post.share.note, post.share.depth) == (
        users["alice"],
        "这是我们村的老王",
        "这是我们村的老王",
        1,
    )
    video.refresh_from_db()
    assert video.share_count == 1
    # No row per member: the post and its link are all that was written.
    assert not Activity.objects.exclude(pk=post.pk).exists()


def test_one_note_goes_to_friends_and_groups_together(users, groups, video):
    family, village = groups["家族群"], groups["王家村"]
    response = share(
        signed_in_client(users["alice"]), video, to=[users["bob"].pk], groups=[village.pk, family.pk], note="看"
    )
    assert response.status_code == 201
    assert Activity.objects.filter(audience=users["bob"], note="看").count() == 1
    assert set(Activity.objects.filter(group__isnull=False).values_list("group_id", flat=True)) == {
        village.pk,
        family.pk,
    }
    video.refresh_from_db()
    assert video.share_count == 3  # one link for bob, one a group


def test_sharing_into_a_group_you_are_not_in_is_refused_and_writes_nothing(users, groups, video):
    family, village = groups["家族群"], groups["王家村"]
    response = share(signed_in_client(users["erin"]), video, groups=[village.pk, family.pk, 9999], note="看")
    assert response.status_code == 400
    assert response.json()["not_member"] == [family.pk, 9999]
    assert "not yours" in response.json()["detail"].lower() or "不在" in response.json()["detail"]
    assert not Activity.objects.exists()


def test_a_banned_user_cannot_post(users, groups, video):
    from miniapp.moderation.services import user_ban

    user_ban(user=users["erin"], moderator=None, reason="spam")
    response = share(signed_in_client(users["erin"]), video, groups=[groups["王家村"].pk])
    assert response.status_code == 403
    assert not Activity.objects.exists()


def test_members_list_their_groups_and_non_members_get_404(users, groups, video):
    village = groups["王家村"]
    services.group_posts_create(sharer=users["alice"], video=video, groups=[village], note="这是我们村的老王")
    erin = signed_in_client(users["erin"])
    listing = erin.get("/api/groups/").json()
    assert [g["name"] for g in listing["groups"]] == ["王家村"]
    (entry,) = listing["groups"]
    assert entry["member_count"] == 4 and entry["unread"] == 1 and listing["unread"] == 1
    assert entry["last_post"]["note"] == "这是我们村的老王"
    assert entry["last_post"]["author"]["name"] == "alice"
    # My own posts are not unread to me, as WeChat counts.
    alices = signed_in_client(users["alice"]).get("/api/groups/").json()
    assert [g["unread"] for g in alices["groups"]] == [0, 0] and alices["unread"] == 0

    detail = erin.get(f"/api/groups/{village.pk}/").json()
    assert sorted(m["name"] for m in detail["members"]) == ["alice", "bob", "carol", "erin"]

    dave = signed_in_client(users["dave"])
    for url in (f"/api/groups/{village.pk}/", f"/api/groups/{village.pk}/posts/", f"/groups/{village.pk}/"):
        assert dave.get(url).status_code == 404, url
    assert (
        dave.post(f"/api/groups/{village.pk}/read/", {"last_id": 1}, content_type="application/json").status_code == 404
    )
    assert "王家村" not in dave.get("/api/groups/").content.decode()


def test_posts_page_oldest_first_forward_and_back(users, groups, video, settings):
    settings.GROUP_PAGE_SIZE = 2
    village = groups["王家村"]
    posts = [
        services.group_posts_create(sharer=users["alice"], video=video, groups=[village], note=f"n{i}")[0]
        for i in range(5)
    ]
    bob = signed_in_client(users["bob"])
    newest = bob.get(f"/api/groups/{village.pk}/posts/").json()
    assert [p["note"] for p in newest["results"]] == ["n3", "n4"]
    assert newest["next"] is None and newest["previous"].endswith(f"?before={posts[3].pk}")
    older = bob.get(newest["previous"]).json()
    assert [p["note"] for p in older["results"]] == ["n1", "n2"]
    forward = bob.get(f"/api/groups/{village.pk}/posts/?after={posts[0].pk}").json()
    assert [p["note"] for p in forward["results"]] == ["n1", "n2"] and forward["last_id"] == posts[2].pk
    assert bob.get(forward["next"]).json()["results"][0]["note"] == "n3"
    for bad in ("after=x", "before=0", f"after=1&before={posts[4].pk}", "after=", "before="):
        response = bob.get(f"/api/groups/{village.pk}/posts/?{bad}")
        assert response.status_code == 400 and response.json()["detail"], bad


def test_a_post_carries_what_its_card_shows_and_counts_views_through_it(users, groups, video):
    village = groups["王家村"]
    (post,) = services.group_posts_create(sharer=users["alice"], video=video, groups=[village], note="看")
    View.objects.create(video=video, viewer=users["erin"], visitor="u1", day="2026-12-01", share=post.share)
    View.objects.create(video=video, viewer=users["bob"], visitor="u2", day="2026-12-01", share=post.share)
    (body,) = signed_in_client(users["erin"]).get(f"/api/groups/{village.pk}/posts/").json()["results"]
    assert body["kind"] == "share" and body["live"] is None and body["group"] == village.pk
    assert body["video"]["title"] == "老王的葡萄" and body["views"] == 2
    assert body["url"] == f"/v/{video.pk}/?s={post.share.token}"
    assert set(body) == {"id", "group", "kind", "author", "video", "live", "note", "url", "views", "created"}


def test_reading_moves_forward_only_and_counts_stop_past_99(users, groups, video):
    village = groups["王家村"]
    posts = services.group_posts_create(sharer=users["alice"], video=video, groups=[village] * 1)
    for _ in range(UNREAD_CAP + 4):
        posts = services.group_posts_create(sharer=users["alice"], video=video, groups=[village])
    erin = signed_in_client(users["erin"])
    assert erin.get("/api/groups/").json()["groups"][0]["unread"] == UNREAD_CAP  # "99+"
    last = posts[-1].pk
    read = erin.post(f"/api/groups/{village.pk}/read/", {"last_id": last - 3}, content_type="application/json")
    assert read.json() == {"unread": 3, "total_unread": 3}
    back = erin.post(f"/api/groups/{village.pk}/read/", {"last_id": 1}, content_type="application/json")
    assert back.json() == {"unread": 3, "total_unread": 3}  # never moves back
    beyond = erin.post(f"/api/groups/{village.pk}/read/", {"last_id": 10**12}, content_type="application/json")
    assert beyond.json() == {"unread": 0, "total_unread": 0}
    assert Membership.objects.get(group=village, user=users["erin"]).read_up_to == last  # not past the last post
    bad = erin.post(f"/api/groups/{village.pk}/read/", {"last_id": "x"}, content_type="application/json")
    assert bad.status_code == 400 and "last_id" in bad.json()["detail"]


def test_unread_counts_are_exact_to_99(users, groups, video):
    village, family = groups["王家村"], groups["家族群"]
    for _ in range(60):
        services.group_posts_create(sharer=users["bob"], video=video, groups=[village])
    for _ in range(39):
        services.group_posts_create(sharer=users["dave"], video=video, groups=[family])
    assert unread_total(user_id=users["alice"].pk) == 99
    services.group_posts_create(sharer=users["dave"], video=video, groups=[family])
    assert unread_total(user_id=users["alice"].pk) == UNREAD_CAP


def test_a_hidden_video_leaves_the_groups_and_their_counts(users, groups, video):
    from miniapp.moderation.models import ModerationAction
    from miniapp.moderation.services import video_moderate

    village = groups["王家村"]
    services.group_posts_create(sharer=users["alice"], video=video, groups=[village], note="看")
    moderator = users["dave"]
    video_moderate(video=video, kind=ModerationAction.Kind.HIDE, moderator=moderator, reason="test")
    erin = signed_in_client(users["erin"])
    assert erin.get(f"/api/groups/{village.pk}/posts/").json()["results"] == []
    (entry,) = erin.get("/api/groups/").json()["groups"]
    assert entry["unread"] == 0 and entry["last_post"] is None
    assert Video.objects.get(pk=video.pk).status == Video.Status.HIDDEN


def test_a_post_can_be_reported_by_members_only(users, groups, video):
    from miniapp.moderation.models import Report

    village = groups["王家村"]
    (post,) = services.group_posts_create(sharer=users["alice"], video=video, groups=[village], note="广告")
    url = f"/api/groups/{village.pk}/posts/{post.pk}/reports/"
    response = signed_in_client(users["erin"]).post(url, {"reason": "spam"}, content_type="application/json")
    assert response.status_code == 201
    report = Report.objects.get()
    assert (report.post, report.video, report.reporter) == (post, video, users["erin"])
    outsider = signed_in_client(users["dave"]).post(url, {"reason": "spam"}, content_type="application/json")
    assert outsider.status_code == 404


def test_likes_through_a_group_post_are_credited_to_it(users, groups, video):
    village = groups["王家村"]
    (post,) = services.group_posts_create(sharer=users["alice"], video=video, groups=[village], note="看")
    erin = signed_in_client(users["erin"])
    assert erin.get(post_url := f"/v/{video.pk}/?s={post.share.token}").status_code == 200
    assert erin.post(f"/api/videos/{video.pk}/like/", HTTP_REFERER=f"http://testserver{post_url}").status_code == 200
    assert Like.objects.get(user=users["erin"]).share == post.share


def test_polling_the_activity_api_with_groups_gets_the_posts_too(users, groups, video):
    village = groups["王家村"]
    erin = signed_in_client(users["erin"])
    start = erin.get("/api/activity/").json()["last_id"]
    (post,) = services.group_posts_create(sharer=users["alice"], video=video, groups=[village], note="看")
    assert erin.get(f"/api/activity/?after={start}").json()["results"] == []  # friends' activity only
    (event,) = erin.get(f"/api/activity/?after={start}&groups=1").json()["results"]
    assert event["type"] == "group_post" and event["post"]["id"] == post.pk
    assert erin.get("/api/activity/").json()["last_id"] == post.pk  # resumes both
    bad = erin.get(f"/api/activity/?after={start}&groups=maybe")
    assert bad.status_code == 400 and "groups" in bad.json()["detail"]
