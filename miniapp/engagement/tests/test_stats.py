from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from miniapp.accounts.models import User
from miniapp.engagement.models import Like, ShareLink
from miniapp.engagement.services import like_create, share_create, view_record, visitor_key
from miniapp.engagement.stats import likes_chart, likes_over_time, video_share_stats
from miniapp.videos.models import Video
from tests.fixtures.factories import make_video

pytestmark = pytest.mark.django_db


def _view(video, user, share):
    view_record(video=video, visitor=visitor_key(user=user), viewer=user, share=share)


@pytest.fixture
def cascade(users):
    """alice's video: alice → bob → carol, with views and likes credited along the way.

    Views: bob and dave through alice's link, carol and a signed-out browser through bob's,
    erin straight from the feed. Likes: bob and dave through alice's link, carol through
    bob's, erin without a link.
    """
    alice, bob, carol, dave, erin = (users[n] for n in ["alice", "bob", "carol", "dave", "erin"])
    video = make_video(alice, title="老王收麦子", created=timezone.now() - timedelta(hours=3))
    first, _ = share_create(sharer=alice, video=video, recipients=[bob], note="看这个")
    second, _ = share_create(sharer=bob, video=video, recipients=[carol], arrived_via=first)
    for user, share in [(bob, first), (dave, first), (carol, second), (erin, None)]:
        _view(video, user, share)
    view_record(video=video, visitor=visitor_key(user=None, browser="browser"), viewer=None, share=second)
    for user, share in [(bob, first), (dave, first), (carol, second), (erin, None)]:
        like_create(user=user, video=video, share=share)
    video.refresh_from_db()
    return video, first, second


def test_the_cascade_is_built_through_the_services(cascade):
    video, first, second = cascade
    assert (first.depth, first.parent) == (1, None)
    assert (second.depth, second.parent) == (2, first)


def test_it_counts_the_cascade(cascade, users):
    video, _, _ = cascade
    stats = video_share_stats(video)
    numbers = {key: value for key, value in stats.items() if key not in ("top_sharers", "likes_over_time")}
    assert numbers == {
        "shares": 2,
        "reshares": 1,
        "views": 5,
        "views_via_shares": 4,
        "likes": 4,
        "likes_via_shares": 3,
        "deepest_chain": 2,
        "unit": "hour",
    }
    assert stats["top_sharers"] == [
        {"user": users["alice"], "shares": 1, "views": 2, "likes": 2},
        {"user": users["bob"], "shares": 1, "views": 2, "likes": 1},
    ]
    assert sum(bucket["likes"] for bucket in stats["likes_over_time"]) == 4


def test_a_video_without_shares_has_zeros(users):
    video = make_video(users["alice"])
    stats = video_share_stats(video)
    assert stats["shares"] == stats["reshares"] == stats["deepest_chain"] == 0
    assert stats["views"] == stats["views_via_shares"] == stats["likes_via_shares"] == 0
    assert stats["top_sharers"] == []


def test_top_sharers_rank_by_likes_then_views_then_shares_and_stop_at_five(users):
    video = make_video(users["alice"])
    sharers = [User.objects.create(username=f"sharer{n}") for n in range(7)]
    links = {}
    for sharer in sharers:
        links[sharer.username], _ = share_create(sharer=sharer, video=video, recipients=[], note="one")
    share_create(sharer=sharers[0], video=video, recipients=[], note="two")  # more shares, nothing else
    for n in range(3):  # sharer1: views only
        _view(video, User.objects.create(username=f"viewer{n}"), links["sharer1"])
    like_create(user=users["bob"], video=video, share=links["sharer2"])  # sharer2: a like, no view
    _view(video, users["carol"], links["sharer3"])  # sharer3: one view and one like
    like_create(user=users["carol"], video=video, share=links["sharer3"])
    ranked = [row["user"].username for row in video_share_stats(video)["top_sharers"]]
    assert ranked == ["sharer3", "sharer2", "sharer1", "sharer0", "sharer4"]


def _like_at(video, user, when):
    Like.objects.filter(pk=Like.objects.create(user=user, video=video).pk).update(created=when)


def test_a_young_video_gets_hourly_buckets_zero_filled(users):
    now = timezone.localtime()
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    video = make_video(users["alice"], created=now - timedelta(hours=5))
    _like_at(video, users["bob"], now - timedelta(hours=4))
    _like_at(video, users["carol"], now - timedelta(hours=4))
    _like_at(video, users["dave"], now)
    unit, buckets = likes_over_time(video, now=now)
    assert unit == "hour"
    assert [b["start"] for b in buckets] == [this_hour - timedelta(hours=h) for h in range(5, -1, -1)]
    assert [b["likes"] for b in buckets] == [0, 2, 0, 0, 0, 1]


def test_hourly_buckets_stop_at_48(users):
    now = timezone.localtime()
    video = make_video(users["alice"], created=now - timedelta(hours=47, minutes=59))
    _like_at(video, users["bob"], now - timedelta(hours=47, minutes=58))  # before the first bucket
    unit, buckets = likes_over_time(video, now=now)
    assert unit == "hour"
    assert len(buckets) == 48
    assert buckets[-1]["start"] == now.replace(minute=0, second=0, microsecond=0)
    assert buckets[0]["start"] == buckets[-1]["start"] - timedelta(hours=47)


def test_an_older_video_gets_the_last_14_days(users):
    now = timezone.localtime()
    video = make_video(users["alice"], created=now - timedelta(days=30))
    _like_at(video, users["bob"], now - timedelta(days=20))  # too old to show
    _like_at(video, users["carol"], now - timedelta(days=3))
    _like_at(video, users["dave"], now)
    unit, buckets = likes_over_time(video, now=now)
    assert unit == "day"
    assert len(buckets) == 14
    assert buckets[-1]["start"] == now.replace(hour=0, minute=0, second=0, microsecond=0)
    assert [b["likes"] for b in buckets] == [0] * 10 + [1, 0, 0, 1]


def test_a_video_of_a_few_days_gets_days_since_it_was_posted(users):
    now = timezone.localtime()
    video = make_video(users["alice"], created=now - timedelta(days=4))
    unit, buckets = likes_over_time(video, now=now)
    assert unit == "day"
    assert len(buckets) == 5
    assert all(b["likes"] == 0 for b in buckets)


def test_days_follow_the_local_time_zone(users, settings):
    assert settings.TIME_ZONE == "Asia/Shanghai"
    tz = timezone.get_current_timezone()
    now = datetime(2026, 11, 28, 12, 0, tzinfo=tz)
    video = make_video(users["alice"], created=now - timedelta(days=5))
    # 00:30 in Shanghai is still the day before in UTC.
    _like_at(video, users["bob"], datetime(2026, 11, 27, 0, 30, tzinfo=tz))
    _like_at(video, users["carol"], datetime(2026, 11, 26, 23, 30, tzinfo=tz))
    _, buckets = likes_over_time(video, now=now)
    found = {b["start"].date().isoformat(): b["likes"] for b in buckets if b["likes"]}
    assert found == {"2026-11-26": 1, "2026-11-27": 1}


def test_the_chart_fits_its_view_box():
    start = timezone.localtime().replace(minute=0, second=0, microsecond=0)
    buckets = [{"start": start + timedelta(hours=h), "likes": n} for h, n in enumerate([0, 4, 2, 0])]
    chart = likes_chart(buckets)
    assert (chart["width"], chart["height"], chart["max"], chart["total"]) == (320, 120, 4, 6)
    assert (chart["first"], chart["last"]) == (start, start + timedelta(hours=3))
    bars = chart["bars"]
    assert [bar["likes"] for bar in bars] == [0, 4, 2, 0]
    assert bars[1]["y"] == chart["top"] and bars[1]["y"] + bars[1]["height"] == 120
    assert bars[2]["height"] == pytest.approx(bars[1]["height"] / 2)
    assert bars[0]["height"] == 1  # an empty bucket stays visible
    assert all(bar["x"] >= 0 and bar["x"] + bar["width"] <= 320 for bar in bars)
    assert [bar["x"] for bar in bars] == sorted(bar["x"] for bar in bars)


def test_the_chart_of_nothing_is_empty():
    assert likes_chart([])["bars"] == []
    assert likes_chart([])["first"] is None


# The API


def _user_json(user) -> dict:
    return {"id": user.pk, "name": user.name, "avatar": user.avatar_url}


def test_the_api_answers_the_author(client, users, cascade):
    video, _, _ = cascade
    client.force_login(users["alice"])
    body = client.get(f"/api/videos/{video.pk}/stats/").json()
    buckets = body.pop("likes_over_time")
    alice, bob = users["alice"], users["bob"]
    assert body == {
        "shares": 2,
        "reshares": 1,
        "views": 5,
        "views_via_shares": 4,
        "likes": 4,
        "likes_via_shares": 3,
        "deepest_chain": 2,
        "unit": "hour",
        "top_sharers": [
            {"user": _user_json(alice), "shares": 1, "views": 2, "likes": 2},
            {"user": _user_json(bob), "shares": 1, "views": 2, "likes": 1},
        ],
    }
    assert sum(b["likes"] for b in buckets) == 4
    starts = [datetime.fromisoformat(b["start"]) for b in buckets]
    assert starts[0] == timezone.localtime(video.created).replace(minute=0, second=0, microsecond=0)
    assert all(later - earlier == timedelta(hours=1) for earlier, later in zip(starts, starts[1:], strict=False))


def test_staff_may_read_anyones_stats(client, users, cascade):
    video, _, _ = cascade
    users["erin"].is_staff = True
    users["erin"].save()
    client.force_login(users["erin"])
    assert client.get(f"/api/videos/{video.pk}/stats/").json()["shares"] == 2


@pytest.mark.parametrize("name", ["bob", "erin"])
def test_the_api_hides_the_video_from_others(client, users, cascade, name):
    video, _, _ = cascade
    client.force_login(users[name])
    response = client.get(f"/api/videos/{video.pk}/stats/")
    missing = client.get("/api/videos/987654/stats/")
    assert response.status_code == missing.status_code == 404
    assert response.json() == missing.json()
    assert response.json()["detail"]


def test_the_author_sees_stats_of_a_hidden_video(client, users):
    video = make_video(users["alice"], status=Video.Status.HIDDEN)
    client.force_login(users["alice"])
    assert client.get(f"/api/videos/{video.pk}/stats/").status_code == 200


def test_the_api_asks_anonymous_users_to_sign_in(client, cascade):
    video, _, _ = cascade
    response = client.get(f"/api/videos/{video.pk}/stats/")
    assert response.status_code == 403
    assert response.json()["detail"]
    assert response.json()["login_url"] == "/login/"


def test_the_api_rejects_post(client, users, cascade):
    video, _, _ = cascade
    client.force_login(users["alice"])
    assert client.post(f"/api/videos/{video.pk}/stats/").status_code == 405


def _stats_queries(client, video) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/api/videos/{video.pk}/stats/").status_code == 200
    return len(queries)


def test_the_api_queries_do_not_grow_with_sharers(client, users, cascade):
    video, first, _ = cascade
    client.force_login(users["alice"])
    before = _stats_queries(client, video)
    for n in range(6):
        sharer = User.objects.create(username=f"sharer{n}")
        share, _ = share_create(sharer=sharer, video=video, recipients=[], arrived_via=first)
        viewer = User.objects.create(username=f"viewer{n}")
        _view(video, viewer, share)
        like_create(user=viewer, video=video, share=share)
    assert ShareLink.objects.filter(video=video).count() == 8
    assert _stats_queries(client, video) == before
    assert len(client.get(f"/api/videos/{video.pk}/stats/").json()["top_sharers"]) == 5


# The page


def test_the_page_shows_the_author_the_numbers_and_a_chart(client, users, cascade):
    video, _, _ = cascade
    client.force_login(users["alice"])
    response = client.get(f"/me/videos/{video.pk}/stats/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    page = response.content.decode()
    assert "老王收麦子" in page
    for label, number in [
        ("Shares", 2),
        ("Re-shares", 1),
        ("Views", 5),
        ("Views via shares", 4),
        ("Likes", 4),
        ("Likes via shares", 3),
    ]:
        assert f"<dt>{label}</dt><dd>{number}</dd>" in page
    assert "2 levels" in page
    assert '<svg class="chart"' in page and 'role="img"' in page
    assert page.count('<rect class="chart-bar') == len(video_share_stats(video)["likes_over_time"])
    assert "<title>" in page
    assert 'href="/me/"' in page
    assert '<a href="/me/" aria-current="page">' in page  # the "me" tab
    assert "No shares yet" not in page


def test_the_page_has_an_empty_state(client, users):
    video = make_video(users["alice"])
    client.force_login(users["alice"])
    page = client.get(f"/me/videos/{video.pk}/stats/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "No shares yet" in page
    assert "Not shared yet" in page and "0 levels" not in page  # no chain, not a chain of none
    assert "No likes in this period yet." in page and '<svg class="chart"' not in page


def test_the_page_escapes_user_text(client, users):
    video = make_video(users["alice"], title="<script>alert(1)</script>")
    sharer = User.objects.create(username="x", display_name='<script>alert("x")</script>')
    share_create(sharer=sharer, video=video, recipients=[], note="<script>alert(2)</script>")
    client.force_login(users["alice"])
    page = client.get(f"/me/videos/{video.pk}/stats/").content.decode()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)" in page
    assert "&lt;script&gt;alert(&quot;x&quot;)" in page


@pytest.mark.parametrize("name", ["bob", "erin"])
def test_the_page_is_404_for_others(client, users, cascade, name):
    video, _, _ = cascade
    client.force_login(users[name])
    response = client.get(f"/me/videos/{video.pk}/stats/")
    assert response.status_code == 404
    assert "videos/unavailable.html" in [t.name for t in response.templates]


def test_the_page_sends_anonymous_users_to_sign_in(client, cascade):
    video, _, _ = cascade
    response = client.get(f"/me/videos/{video.pk}/stats/")
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next=/me/videos/{video.pk}/stats/"


def test_the_page_rejects_post(client, users, cascade):
    video, _, _ = cascade
    client.force_login(users["alice"])
    assert client.post(f"/me/videos/{video.pk}/stats/").status_code == 405


def test_me_links_each_video_to_its_stats(client, users, cascade):
    video, _, _ = cascade
    client.force_login(users["alice"])
    assert f'href="/me/videos/{video.pk}/stats/"' in client.get("/me/").content.decode()
