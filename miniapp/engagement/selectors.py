import re
from collections import defaultdict
from datetime import timedelta
from urllib.parse import urlencode

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _

from miniapp.accounts.models import Friendship, Group, Membership
from miniapp.accounts.selectors import group_ids_of, not_banned
from miniapp.accounts.serializers import user_body
from miniapp.engagement.events import activity_event, post_body
from miniapp.engagement.models import LIVE_VERBS, Activity, Like, ShareLink, View
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


# Belt and braces: a like or a share racing a hide could log an entry after the withdrawal
# ran. Retractions always go through: they are what takes the video's entries away.
# An entry about a live (its announcement, a friend's like in it) has no video: it stands
# (showing the live's state) until withdrawn.
STANDING = Q(video__status=Video.Status.PUBLISHED) | Q(verb__in=[Activity.Verb.RETRACT, *LIVE_VERBS])


def groups_shared_in(*, viewer_id: int | None, video_ids: list[int], limit: int = 2) -> dict[int, list[dict]]:
    """For each video, the viewer's groups it was shared into ("王家村群里分享过"), the latest
    first, up to `limit`: one query for the page."""
    if not viewer_id or not video_ids:
        return {}
    rows = (
        Activity.objects.filter(
            group_id__in=group_ids_of(viewer_id),
            video_id__in=video_ids,
            verb=Activity.Verb.SHARE,
            retracted=False,
        )
        .order_by("-id")
        .values_list("video_id", "group_id", "group__name")
    )
    found: dict[int, list[dict]] = defaultdict(list)
    for video_id, group_id, name in rows:
        groups = found[video_id]
        if len(groups) < limit and all(group["id"] != group_id for group in groups):
            groups.append({"id": group_id, "name": name})
    return dict(found)


def _visible_to(viewer_id: int) -> QuerySet[Activity]:
    """Log entries by the viewer's friends that are meant for the viewer."""
    return (
        Activity.objects.filter(actor_id__in=Friendship.objects.filter(user_id=viewer_id).values("friend_id"))
        .filter(Q(audience__isnull=True) | Q(audience_id=viewer_id), group__isnull=True)
        .filter(STANDING)
        .select_related("actor", "video", "share", "live__host")
    )


def _posts_visible_to(viewer_id: int) -> QuerySet[Activity]:
    """Log entries of the viewer's groups: their posts and the posts' retractions."""
    return (
        Activity.objects.filter(group_id__in=group_ids_of(viewer_id))
        .filter(STANDING)
        .select_related("actor", "video", "share", "live")
    )


def _logs(viewer_id: int, groups: bool) -> list[QuerySet[Activity]]:
    """The parts of the log the viewer reads: friends' entries, and with `groups` their groups'
    posts. Each is queried on its own (its own index) and the results merged by id: an OR of
    the two made the database scan the log instead."""
    return [_visible_to(viewer_id), _posts_visible_to(viewer_id)] if groups else [_visible_to(viewer_id)]


# Ids are handed out at insert, but transactions commit (and publish) in their own
# order: an entry numbered just below the last one a client saw may reach it later.
# Replays therefore reach back this far before `after`; clients drop what they have.
REPLAY_OVERLAP = timedelta(seconds=5)


def activity_replay(
    *, viewer_id: int, after: int, limit: int, overlap: bool = False, groups: bool = False
) -> tuple[list[dict], bool]:
    """What the viewer missed after entry `after`, oldest first, and whether that is all of it.

    Entries withdrawn since are left out, with their retractions; a retraction is
    sent only for an entry the client may already show (id <= after). With `overlap`
    (socket reconnects), entries made in the few seconds before `after` come again
    too; the API's pages do without, so that each page moves on. With `groups` (the
    socket), the posts of the viewer's groups come too, in the same order.
    """
    since = Activity.objects.filter(pk=after).values_list("created", flat=True).first() if overlap else None
    window = Q(id__gt=after)
    if since is not None:
        window |= Q(id__lt=after, created__gte=since - REPLAY_OVERLAP)
    rows = sorted(
        (
            row
            for log in _logs(viewer_id, groups)
            for row in log.filter(window, retracted=False)
            .exclude(verb=Activity.Verb.RETRACT, target_id__gt=after)
            .order_by("id")[: limit + 1]
        ),
        key=lambda row: row.pk,
    )
    return [activity_event(row) for row in rows[:limit]], len(rows) <= limit


def activity_latest(*, viewer_id: int, limit: int) -> tuple[list[dict], int]:
    """The newest `limit` entries still standing, oldest first, and the log position to resume
    from (the groups' posts included: a socket resumes both from it)."""
    rows = list(
        _visible_to(viewer_id).filter(retracted=False).exclude(verb=Activity.Verb.RETRACT).order_by("-id")[:limit]
    )
    return [activity_event(row) for row in reversed(rows)], activity_position(viewer_id=viewer_id, groups=True)


def activity_position(*, viewer_id: int, groups: bool = False) -> int:
    """The id of the newest log entry the viewer may see (0 when there is none); with `groups`,
    of their groups' posts too."""
    return max(
        (log.order_by("-id").values_list("id", flat=True).first() or 0 for log in _logs(viewer_id, groups)), default=0
    )


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


# --- Groups (社群): their posts and how many of them each member has not read.

# Unread counts stop here: 100 means "more than 99", shown "99+".
UNREAD_CAP = 100


def _posts(group_id) -> QuerySet[Activity]:
    """A group's posts still standing (`group_id` may be an OuterRef)."""
    return Activity.objects.filter(STANDING, group_id=group_id, retracted=False).exclude(verb=Activity.Verb.RETRACT)


class _CountOf(Subquery):
    """How many rows a (sliced) subquery has: COUNT(*) over it, so that a LIMIT inside bounds the work."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) _rows)"
    output_field = IntegerField()


def _unread(group_id, after, user_id) -> _CountOf:
    return _CountOf(_posts(group_id).filter(id__gt=after).exclude(actor_id=user_id).values("id")[:UNREAD_CAP])


def group_last_post_id(group_id: int) -> int:
    """The id of the group's last log entry, a post or a retraction (0 when there is none)."""
    return Activity.objects.filter(group_id=group_id).order_by("-id").values_list("id", flat=True).first() or 0


def group_unread(*, group_id: int, after: int, user_id: int) -> int:
    """A group's posts after read position `after`, but the user's own (as WeChat counts),
    counted up to UNREAD_CAP."""
    return _posts(group_id).filter(id__gt=after).exclude(actor_id=user_id)[:UNREAD_CAP].count()


def unread_total(*, user_id: int) -> int:
    """The user's unread posts in all their groups, counted up to UNREAD_CAP: one query, each
    group's count an index range that stops at the cap."""
    counts = Membership.objects.filter(user_id=user_id).annotate(
        unread=_unread(OuterRef("group_id"), OuterRef("read_up_to"), OuterRef("user_id"))
    )
    return min(sum(counts.values_list("unread", flat=True)), UNREAD_CAP)


def groups_position(*, user_id: int) -> int:
    """The id of the newest entry of the user's groups' posts (0 when there is none)."""
    return _posts_visible_to(user_id).order_by("-id").values_list("id", flat=True).first() or 0


def _views(share_ids) -> dict[int, int]:
    """People who watched through each of these share links (a view counts once a person a day)."""
    rows = View.objects.filter(share_id__in=list(share_ids)).values("share_id").annotate(n=Count("id"))
    return {row["share_id"]: row["n"] for row in rows}


def post_bodies(posts: list[Activity]) -> list[dict]:
    """The posts as the API answers them, with their views: one more query for all."""
    views = _views(post.share_id for post in posts if post.share_id)
    return [post_body(post, views=views.get(post.share_id, 0)) for post in posts]


def group_posts_page(
    *, group_id: int, after: int | None = None, before: int | None = None, limit: int
) -> tuple[list[dict], bool]:
    """A page of a group's posts, oldest first, and whether there are more beyond it: those
    after post `after` (going forward), before post `before` (going back), or else the newest."""
    posts = _posts(group_id).select_related("actor", "video", "share", "live")
    if after is not None:
        rows = list(posts.filter(id__gt=after).order_by("id")[: limit + 1])
        return post_bodies(rows[:limit]), len(rows) > limit
    if before is not None:
        posts = posts.filter(id__lt=before)
    rows = list(posts.order_by("-id")[: limit + 1])
    return post_bodies(list(reversed(rows[:limit]))), len(rows) > limit


def posts_page_body(path: str, page: list[dict], more: bool, *, after=None, before=None) -> dict:
    """A page of posts as the API answers it, with where to go from it: `next` (newer, when
    paging forward with `after`), `previous` (older, reading back from the newest page or
    `before`). `path` is the posts API's."""
    last_id = page[-1]["id"] if page else (after or 0)
    forward = after is not None
    return {
        "results": page,
        "last_id": last_id,
        "next": absolute_url(f"{path}?after={last_id}") if forward and more else None,
        "previous": absolute_url(f"{path}?before={page[0]['id']}") if not forward and more and page else None,
    }


def groups_of(*, user_id: int) -> list[dict]:
    """The user's groups with, for each, its member count, the user's unread count (to
    UNREAD_CAP) and its last post: the group with the newest post first. One query for the
    groups and their numbers (each group's an index lookup, however many posts it has), and
    the last posts with their authors, videos and links by primary key."""
    rows = (
        Membership.objects.filter(user_id=user_id)
        .annotate(
            last_post_id=Subquery(_posts(OuterRef("group_id")).order_by("-id").values("id")[:1]),
            unread=_unread(OuterRef("group_id"), OuterRef("read_up_to"), OuterRef("user_id")),
        )
        .values("group_id", "group__name", "group__avatar_url", "group__member_count", "last_post_id", "unread")
    )
    rows = sorted(rows, key=lambda row: (row["last_post_id"] or 0, row["group_id"]), reverse=True)
    # By primary key each (prefetched, not joined): a join made PostgreSQL hash every user and link.
    last_posts = Activity.objects.filter(pk__in=[row["last_post_id"] for row in rows if row["last_post_id"]])
    bodies = {
        body["id"]: body for body in post_bodies(list(last_posts.prefetch_related("actor", "video", "share", "live")))
    }
    page = reverse("group", args=[0]).removesuffix("0/")  # a group's page is this and "<id>/"
    return [
        {
            "id": row["group_id"],
            "name": row["group__name"],
            "avatar": row["group__avatar_url"],
            "url": f"{page}{row['group_id']}/",
            "member_count": row["group__member_count"],
            "unread": row["unread"],
            "last_post": bodies.get(row["last_post_id"]),
        }
        for row in rows
    ]


def group_summary(group: Group) -> dict:
    return {
        "id": group.pk,
        "name": group.name,
        "avatar": group.avatar_url,
        "url": reverse("group", args=[group.pk]),
    }


def group_detail(*, group: Group, user_id: int) -> dict:
    """One of the user's groups with its members (app users; those waiting for an account are
    counted in `member_count` only when they join), the user's read position and unread count."""
    members = list(Membership.objects.filter(group=group).select_related("user").order_by("joined", "id"))
    mine = next(m for m in members if m.user_id == user_id)
    return {
        **group_summary(group),
        "member_count": len(members),
        "members": [user_body(m.user) for m in members],
        "read_up_to": mine.read_up_to,
        "unread": group_unread(group_id=group.pk, after=mine.read_up_to, user_id=user_id),
    }


def group_post_or_404(*, group_id: int, post_id: int, user_id: int) -> Activity:
    """A post still standing in one of the user's groups; Http404 for anything else."""
    post = (
        _posts(group_id).filter(pk=post_id, group__memberships__user_id=user_id).select_related("video", "live").first()
    )
    if post is None:
        raise Http404(_("No such post."))
    return post
