import re
from collections import defaultdict
from datetime import timedelta
from urllib.parse import urlencode

from django.db.models import Q, QuerySet
from django.urls import reverse

from miniapp.accounts.models import Friendship
from miniapp.accounts.selectors import not_banned
from miniapp.engagement.events import activity_event
from miniapp.engagement.models import Activity, Like, ShareLink
from miniapp.lib.site import absolute_url
from miniapp.videos.models import Video


def liked_video_ids(*, user_id: int | None, video_ids: list[int]) -> set[int]:
    """Which of these videos the user liked: one indexed lookup for a page.

    (An EXISTS annotation made PostgreSQL hash every like the user ever gave.)
    """
    if not user_id or not video_ids:
        return set()
    return set(Like.objects.filter(user_id=user_id, video_id__in=video_ids).values_list("video_id", flat=True))


def friends_whose_likes_show(viewer_id: int) -> QuerySet:
    """The viewer's friends (as `friend_id` values) whose likes the viewer may see: not those
    who turned "show my likes to friends" off, nor those banned now."""
    return (
        Friendship.objects.filter(user_id=viewer_id, friend__share_likes=True)
        .filter(not_banned("friend__"))
        .values("friend_id")
    )


def friend_likers(*, viewer_id: int | None, video_ids: list[int], limit: int = 3) -> dict[int, dict]:
    """For each video, how many of the viewer's friends liked it and the first `limit` of them.

    One query for the whole page, newest likes first.
    """
    if not viewer_id or not video_ids:
        return {}
    likes = (
        Like.objects.filter(
            video_id__in=video_ids,
            user_id__in=friends_whose_likes_show(viewer_id),
        )
        .select_related("user")
        .order_by("video_id", "-created", "-id")
    )
    found: dict[int, dict] = defaultdict(lambda: {"count": 0, "users": []})
    for like in likes:
        entry = found[like.video_id]
        entry["count"] += 1
        if len(entry["users"]) < limit:
            entry["users"].append(like.user)
    return dict(found)


def _visible_to(viewer_id: int) -> QuerySet[Activity]:
    """Log entries by the viewer's friends that are meant for the viewer."""
    return (
        Activity.objects.filter(actor_id__in=Friendship.objects.filter(user_id=viewer_id).values("friend_id"))
        .filter(Q(audience__isnull=True) | Q(audience_id=viewer_id))
        # Belt and braces: a like racing a hide could log an entry after the withdrawal ran.
        # Retractions always go through: they are what takes the video's entries away.
        .filter(Q(video__status=Video.Status.PUBLISHED) | Q(verb=Activity.Verb.RETRACT))
        .select_related("actor", "video", "share")
    )


# Ids are handed out at insert, but transactions commit (and publish) in their own
# order: an entry numbered just below the last one a client saw may reach it later.
# Replays therefore reach back this far before `after`; clients drop what they have.
REPLAY_OVERLAP = timedelta(seconds=5)


def activity_replay(*, viewer_id: int, after: int, limit: int, overlap: bool = False) -> tuple[list[dict], bool]:
    """What the viewer missed after entry `after`, oldest first, and whether that is all of it.

    Entries withdrawn since are left out, with their retractions; a retraction is
    sent only for an entry the client may already show (id <= after). With `overlap`
    (socket reconnects), entries made in the few seconds before `after` come again
    too; the API's pages do without, so that each page moves on.
    """
    since = Activity.objects.filter(pk=after).values_list("created", flat=True).first() if overlap else None
    window = Q(id__gt=after)
    if since is not None:
        window |= Q(id__lt=after, created__gte=since - REPLAY_OVERLAP)
    rows = list(
        _visible_to(viewer_id)
        .filter(window, retracted=False)
        .exclude(verb=Activity.Verb.RETRACT, target_id__gt=after)
        .order_by("id")[: limit + 1]
    )
    return [activity_event(row) for row in rows[:limit]], len(rows) <= limit


def activity_latest(*, viewer_id: int, limit: int) -> tuple[list[dict], int]:
    """The newest `limit` entries still standing, oldest first, and the log position to resume from."""
    rows = list(
        _visible_to(viewer_id).filter(retracted=False).exclude(verb=Activity.Verb.RETRACT).order_by("-id")[:limit]
    )
    return [activity_event(row) for row in reversed(rows)], activity_position(viewer_id=viewer_id)


def activity_position(*, viewer_id: int) -> int:
    """The id of the newest log entry the viewer may see (0 when there is none)."""
    return _visible_to(viewer_id).order_by("-id").values_list("id", flat=True).first() or 0


# What `share_token()` makes (token_urlsafe(12)); anything else is looked up nowhere.
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{16}")


def share_for_link(*, token: str, video_id: int | None = None) -> ShareLink | None:
    """The share behind a link's token, if it exists and its video can still be watched.

    Anything else (unknown, altered, far too long, another video's) is simply no share.
    """
    if not TOKEN_RE.fullmatch(token):
        return None
    shares = ShareLink.objects.filter(token=token, video__status=Video.Status.PUBLISHED).select_related("sharer")
    if video_id is not None:
        shares = shares.filter(video_id=video_id)
    return shares.first()


def share_url(share: ShareLink) -> str:
    """The link that opens the shared video for anyone: {SITE_URL}/v/<id>/?s=<token>."""
    path = reverse("video-detail", args=[share.video_id])
    return absolute_url(f"{path}?{urlencode({'s': share.token})}")
