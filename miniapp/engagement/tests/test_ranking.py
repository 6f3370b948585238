import base64
import math
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from miniapp.engagement import services
from miniapp.engagement.models import Like
from miniapp.videos import hotness
from miniapp.videos.models import Video
from tests.fixtures.factories import make_video

pytestmark = pytest.mark.django_db


def ids(body) -> list[int]:
    return [card["id"] for card in body["results"]]


def watched(user, video, *, days_ago=0):
    when = timezone.now() - timedelta(days=days_ago)
    services.view_record(video=video, visitor=f"u{user.pk}", viewer=user, share=None, now=when)


def walk(client, url="/api/videos/") -> list[int]:
    seen = []
    while url:
        body = client.get(url).json()
        seen += ids(body)
        url = body["next"]
    return seen


def test_hot_score_rises_with_each_like_and_falls_back_when_taken_back(users):
    video = make_video(users["erin"])
    base = video.hot
    assert base == pytest.approx(hotness.base(video.created))
    services.like_create(user=users["alice"], video=video)
    services.like_create(user=users["bob"], video=video)
    video.refresh_from_db()
    liked = list(Like.objects.filter(video=video).values_list("created", flat=True))
    assert video.hot == pytest.approx(hotness.score(video.created, liked))
    services.like_delete(user=users["alice"], video=video)
    services.like_delete(user=users["bob"], video=video)
    video.refresh_from_db()
    assert video.hot == pytest.approx(base)


def test_a_like_counts_half_as_much_one_half_life_later():
    start = timezone.now()
    later = start + timedelta(hours=hotness.HALF_LIFE_HOURS)
    assert math.exp(hotness.point(start) - hotness.point(later)) == pytest.approx(0.5)


def test_signed_out_visitors_get_the_hot_ranking(client, users):
    now = timezone.now()
    fresh_quiet = make_video(users["erin"], created=now)
    old_loved = make_video(users["erin"], created=now - timedelta(days=3), likes=[users["bob"], users["carol"]])
    recently_loved = make_video(
        users["erin"], created=now - timedelta(hours=6), likes=[users["bob"], users["carol"], users["dave"]]
    )
    make_video(users["erin"], status=Video.Status.HIDDEN, likes=[users["bob"]])
    order = ids(client.get("/api/videos/").json())
    assert order == [recently_loved.pk, fresh_quiet.pk, old_loved.pk]


def test_what_friends_liked_comes_first_with_who_liked_it(client, users):
    now = timezone.now()
    hot = make_video(users["erin"], likes=[users["erin"], users["dave"]], created=now)
    one_friend = make_video(users["erin"], likes=[users["bob"]], created=now - timedelta(days=2))
    two_friends = make_video(users["erin"], likes=[users["bob"], users["carol"]], created=now - timedelta(days=5))
    plain = make_video(users["erin"], created=now - timedelta(days=1))
    client.force_login(users["bob"])  # bob's only friend is alice: nothing liked by friends yet
    assert ids(client.get("/api/videos/").json())[0] == hot.pk
    client.force_login(users["alice"])  # alice's friends: bob, carol, dave
    body = client.get("/api/videos/").json()
    assert ids(body) == [two_friends.pk, one_friend.pk, hot.pk, plain.pk]
    first = body["results"][0]
    assert first["friends_liked_count"] == 2
    assert sorted(f["name"] for f in first["friends_who_liked"]) == ["bob", "carol"]


def test_old_friend_likes_no_longer_put_a_video_first(client, users, settings):
    settings.FEED_FRIENDS_DAYS = 7
    now = timezone.now()
    stale = make_video(users["erin"], created=now - timedelta(days=30), likes=[users["bob"]])
    Like.objects.filter(video=stale).update(created=now - timedelta(days=8))
    fresh = make_video(users["erin"], created=now)
    client.force_login(users["alice"])
    assert ids(client.get("/api/videos/").json()) == [fresh.pk, stale.pk]


def test_my_own_videos_are_not_put_first_for_me(client, users):
    mine = make_video(users["alice"], likes=[users["bob"], users["carol"]], created=timezone.now() - timedelta(days=2))
    other = make_video(users["erin"], likes=[users["dave"]], created=timezone.now() - timedelta(days=2))
    client.force_login(users["alice"])
    order = ids(client.get("/api/videos/").json())
    assert order[0] == other.pk and mine.pk in order


def test_what_i_watched_recently_goes_to_the_end(client, users, settings):
    settings.FEED_SEEN_DAYS = 3
    now = timezone.now()
    liked_by_friend = make_video(users["erin"], likes=[users["bob"]], created=now)
    newest = make_video(users["erin"], created=now)
    long_ago = make_video(users["erin"], created=now - timedelta(hours=1))
    watched(users["alice"], liked_by_friend)
    watched(users["alice"], newest, days_ago=1)
    watched(users["alice"], long_ago, days_ago=10)
    client.force_login(users["alice"])
    assert ids(client.get("/api/videos/").json()) == [long_ago.pk, liked_by_friend.pk, newest.pk]


def test_pages_cross_every_tier_without_repeats_or_gaps(client, users):
    now = timezone.now()
    made = []
    for n in range(30):
        likers = [users["bob"]] if n % 3 == 0 else []
        made.append(make_video(users["erin"], created=now - timedelta(hours=n), likes=likers))
    for video in made[1:8]:
        watched(users["alice"], video)
    make_video(users["erin"], status=Video.Status.REMOVED)
    client.force_login(users["alice"])
    walked = walk(client)
    assert len(walked) == len(set(walked)) == 30
    assert set(walked) == {v.pk for v in made}
    assert set(walk(client.__class__())) == {v.pk for v in made}  # signed out too


def test_a_page_costs_a_bounded_number_of_queries_whatever_its_content(client, users):
    now = timezone.now()
    for n in range(40):
        likers = [users["bob"], users["carol"], users["dave"]][: n % 4]
        make_video(users["erin"], created=now - timedelta(hours=n), likes=likers)
    client.force_login(users["alice"])
    counts, walked, url = [], [], "/api/videos/"
    while url:
        with CaptureQueriesContext(connection) as queries:
            body = client.get(url).json()
        counts.append(len(queries))
        walked += ids(body)
        url = body["next"]
    # session, user, my friends, my groups, the friends tier (2) or a hot tier (1, one more where
    # tiers meet), my likes, my friends' likes, my groups' shares: never more, however deep. (A
    # page that ends exactly where the last tier with videos ends is followed by an empty one.)
    assert len(walked) == 40 and len(counts) <= 6
    assert max(counts) <= 10


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "eyJ0IjoieiJ9",
        "eyJ0IjoiZiIsIm8iOi0xfQ",
        "eyJ0IjoiaCIsInMiOiJuYW4iLCJpIjoxfQ",
        base64.urlsafe_b64encode(b"[" * 5000).decode(),  # json.loads would recurse
        "W1tbW1tbW1tbW1tbW1tbW1tb",
    ],
)
def test_a_bad_cursor_is_a_400_with_a_message(client, users, cursor):
    make_video(users["erin"])
    response = client.get("/api/videos/", {"cursor": cursor})
    assert response.status_code == 400
    assert response.json()["detail"] == "翻页参数无效，请从第一页重新开始。"


def test_the_home_page_renders_the_ranked_first_page(client, users):
    now = timezone.now()
    plain = make_video(users["erin"], created=now)
    liked = make_video(
        users["erin"], title="朋友赞过", likes=[users["bob"], users["carol"]], created=now - timedelta(days=1)
    )
    client.force_login(users["alice"])
    page = client.get("/").content.decode()
    assert page.index(f'data-id="{liked.pk}"') < page.index(f'data-id="{plain.pk}"')
    assert "2 位好友赞过" in page


def test_likes_of_friends_who_keep_them_private_or_are_banned_do_not_count(client, users):
    from miniapp.engagement.services import user_set_share_likes
    from miniapp.moderation.services import user_ban

    private = make_video(users["erin"], likes=[users["bob"]], created=timezone.now() - timedelta(days=2))
    banned = make_video(users["erin"], likes=[users["carol"]], created=timezone.now() - timedelta(days=2))
    fresh = make_video(users["erin"])
    user_set_share_likes(user=users["bob"], share_likes=False)
    user_ban(user=users["carol"], moderator=users["erin"], reason="spam")
    client.force_login(users["alice"])
    body = client.get("/api/videos/").json()
    assert ids(body)[0] == fresh.pk  # neither is put first any more
    cards = {card["id"]: card for card in body["results"]}
    for video in (private, banned):
        assert cards[video.pk]["friends_liked_count"] == 0 and cards[video.pk]["friends_who_liked"] == []


def test_a_like_and_unlike_on_an_old_video_does_not_push_it_up(users):
    old = make_video(users["erin"], created=timezone.now() - timedelta(days=60))
    before = old.hot
    services.like_create(user=users["alice"], video=old)
    services.like_delete(user=users["alice"], video=old)
    old.refresh_from_db()
    assert old.hot == pytest.approx(before) and old.like_count == 0


def test_a_video_shared_into_my_group_counts_toward_the_friends_tier(users, groups):
    from tests.fixtures.personas import signed_in_client

    village = groups["王家村"]
    hot = make_video(users["dave"], title="hot", hot=1e6)
    one_friend = make_video(users["dave"], title="one friend", likes=[users["alice"]])
    shared = make_video(users["dave"], title="shared in the village")
    liked_and_shared = make_video(users["dave"], title="both", likes=[users["alice"]])
    services.group_posts_create(sharer=users["erin"], video=shared, groups=[village], note="看")
    services.group_posts_create(sharer=users["erin"], video=liked_and_shared, groups=[village])
    mine = services.group_posts_create(sharer=users["bob"], video=hot, groups=[village])  # bob's own share

    bob = signed_in_client(users["bob"])
    body = bob.get("/api/videos/").json()
    # liked by a friend and shared in a group (2), then by recency among the ones weighing 1.
    assert ids(body)[:3] == [liked_and_shared.pk, shared.pk, one_friend.pk]
    assert ids(body)[3] == hot.pk  # his own share does not lift it
    cards = {card["id"]: card for card in body["results"]}
    assert cards[shared.pk]["shared_in_groups"] == [{"id": village.pk, "name": "王家村"}]
    assert cards[shared.pk]["friends_liked_count"] == 0
    assert cards[one_friend.pk]["shared_in_groups"] == []
    assert mine and walk(bob) == ids(body)  # one page, nothing twice

    # dave is in no group with erin: the shares do not lift anything for him.
    page = ids(signed_in_client(users["dave"]).get("/api/videos/").json())
    assert page[0] == hot.pk

    feed = bob.get(f"/v/{shared.pk}/").content.decode()
    assert "王家村" in feed
