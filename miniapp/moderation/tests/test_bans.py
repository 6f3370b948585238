from datetime import timedelta

import pytest
from django.utils import timezone

from miniapp.accounts.models import BANNED_FOR_GOOD, User
from miniapp.accounts.selectors import not_banned
from miniapp.engagement.models import Activity
from miniapp.engagement.services import share_create
from miniapp.moderation import services
from miniapp.moderation.models import LimitHit, ModerationAction
from miniapp.moderation.selectors import ban_in_force
from tests.fixtures.factories import make_video

pytestmark = pytest.mark.django_db


def writes(client, video, friend):
    """The status of each write a banned user may not make."""
    return [
        client.post(f"/api/videos/{video.pk}/like/").status_code,
        client.post(
            f"/api/videos/{video.pk}/shares/", {"to": [friend.pk]}, content_type="application/json"
        ).status_code,
        client.post(
            f"/api/videos/{video.pk}/reports/", {"reason": "spam"}, content_type="application/json"
        ).status_code,
        client.post("/api/videos/", {"title": "x"}).status_code,
    ]


def test_a_banned_user_can_watch_but_not_like_share_upload_or_report(client, users, moderator):
    video = make_video(users["erin"])
    services.user_ban(user=users["alice"], moderator=moderator, reason="Spamming likes.")
    client.force_login(users["alice"])
    assert writes(client, video, users["bob"]) == [403, 403, 403, 403]
    response = client.post(f"/api/videos/{video.pk}/like/")
    assert "suspended" in response.json()["detail"] or "封禁" in response.json()["detail"]
    assert "Spamming likes." in response.json()["detail"]
    assert client.get("/api/videos/").status_code == 200
    assert client.get(f"/v/{video.pk}/").status_code == 200


def test_their_past_likes_and_shares_leave_friends_feeds(client, users, moderator, liked_video):
    share_create(sharer=users["alice"], video=liked_video, recipients=[users["bob"]], note="看")
    services.user_ban(user=users["alice"], moderator=moderator, reason="abuse")
    assert not Activity.objects.filter(actor=users["alice"], retracted=False).exclude(verb="retract").exists()
    client.force_login(users["bob"])
    assert client.get("/api/activity/").json()["results"] == []


def test_a_ban_ends_by_itself_or_when_lifted(client, users, moderator):
    video = make_video(users["erin"])
    services.user_ban(
        user=users["alice"], moderator=moderator, reason="cool off", until=timezone.now() + timedelta(hours=1)
    )
    assert ban_in_force(users["alice"]) is not None
    assert services.user_ban(user=users["alice"], moderator=moderator, reason="again") is None  # banned already
    assert services.user_unban(user=users["alice"], moderator=moderator, reason="appeal accepted")
    assert not services.user_unban(user=users["alice"], moderator=moderator, reason="twice")
    client.force_login(users["alice"])
    assert client.post(f"/api/videos/{video.pk}/like/").status_code == 200
    services.user_ban(user=users["bob"], moderator=moderator, reason="short", until=timezone.now() + timedelta(hours=1))
    from miniapp.moderation.models import Ban

    Ban.objects.filter(user=users["bob"]).update(until=timezone.now() - timedelta(seconds=1))
    assert ban_in_force(users["bob"]) is None
    kinds = list(ModerationAction.objects.order_by("pk").values_list("kind", flat=True))
    assert kinds == ["ban", "unban", "ban"]


def test_users_who_keep_hitting_limits_are_flagged_then_banned_for_a_while(client, users, settings):
    settings.LIKE_RATE = "1/hour"
    settings.ABUSE_FLAG_HITS, settings.ABUSE_BAN_HITS, settings.ABUSE_BAN_HOURS = 2, 3, 24
    client.force_login(users["alice"])
    video = make_video(users["erin"])
    client.post(f"/api/videos/{video.pk}/like/")
    from django.core.cache import cache

    statuses = []
    for _ in range(3):
        statuses.append(client.post(f"/api/videos/{video.pk}/like/").status_code)
        cache.delete(f"limit-hit:{users['alice'].pk}:like")  # one noted hit a minute: pretend a minute passed
    assert statuses == [429, 429, 429]
    assert LimitHit.objects.filter(user=users["alice"]).count() == 3
    flag, ban = ModerationAction.objects.order_by("pk")
    assert (flag.kind, flag.automatic, ban.kind, ban.automatic) == ("flag", True, "ban", True)
    ban_row = ban_in_force(users["alice"])
    assert ban_row.created_by is None and ban_row.until > timezone.now() + timedelta(hours=23)


def test_staff_are_never_banned_by_the_automatic_rules(users, moderator, settings):
    settings.ABUSE_FLAG_HITS, settings.ABUSE_BAN_HITS = 1, 1
    services.limit_hit_record(user=moderator, scope="like")
    assert ban_in_force(moderator) is None
    assert services.user_ban(user=moderator, moderator=None, reason="auto") is None


def test_repeat_hits_within_a_minute_are_noted_once(users):
    for _ in range(5):
        services.limit_hit_record(user=users["alice"], scope="like")
    services.limit_hit_record(user=users["alice"], scope="share")
    assert LimitHit.objects.count() == 2


def test_nobody_bans_themselves_and_only_superusers_ban_staff(users, moderator, django_user_model):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.user_ban(user=moderator, moderator=moderator, reason="oops")
    other = django_user_model.objects.create_user(username="mod2", is_staff=True)
    with pytest.raises(PermissionDenied):
        services.user_ban(user=other, moderator=moderator, reason="rival")
    root = django_user_model.objects.create_superuser(username="root", password="x" * 12)
    assert services.user_ban(user=other, moderator=root, reason="left the team") is not None
    with pytest.raises(PermissionDenied):
        services.user_unban(user=other, moderator=moderator, reason="friend")


def test_a_ban_signs_them_out_everywhere(client, users, moderator):
    """Every session ends (their open sockets close: realtime/tests/test_session_end.py); signed
    in again, they may watch but not write."""
    client.force_login(users["alice"])
    services.user_ban(user=users["alice"], moderator=moderator, reason="abuse")
    assert client.get("/api/me/").status_code == 403
    client.force_login(users["alice"])
    assert client.get("/api/me/").status_code == 200
    assert client.post(f"/api/videos/{make_video(users['erin']).pk}/like/").status_code == 403


def test_the_users_ban_end_follows_their_bans(users, moderator):
    """`User.banned_until` is how the apps below moderation tell who is banned now."""
    alice, bob = users["alice"], users["bob"]
    end = timezone.now() + timedelta(hours=1)
    services.user_ban(user=alice, moderator=moderator, reason="cool off", until=end)
    services.user_ban(user=bob, moderator=moderator, reason="for good")
    alice.refresh_from_db()
    bob.refresh_from_db()

    def is_banned(user, now=None) -> bool:
        return not User.objects.filter(not_banned(now=now), pk=user.pk).exists()

    assert (alice.banned_until, is_banned(alice)) == (end, True)
    assert bob.banned_until == BANNED_FOR_GOOD and is_banned(bob)
    assert not is_banned(alice, now=end + timedelta(seconds=1))  # a ban with an end ends by itself

    services.user_unban(user=bob, moderator=moderator, reason="appeal accepted")
    bob.refresh_from_db()
    assert (bob.banned_until, is_banned(bob)) == (None, False)
