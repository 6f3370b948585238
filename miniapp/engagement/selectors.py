from collections import defaultdict

from django.db.models import Exists, OuterRef

from miniapp.accounts.models import Friendship
from miniapp.engagement.models import Like


def liked_by(user_id: int | None):
    """An `Exists` expression for annotating videos with whether `user_id` liked them."""
    return Exists(Like.objects.filter(video=OuterRef("pk"), user_id=user_id or 0))


def friend_likers(*, viewer_id: int | None, video_ids: list[int], limit: int = 3) -> dict[int, dict]:
    """For each video, how many of the viewer's friends liked it and the first `limit` of them.

    One query for the whole page, newest likes first.
    """
    if not viewer_id or not video_ids:
        return {}
    likes = (
        Like.objects.filter(
            video_id__in=video_ids,
            user_id__in=Friendship.objects.filter(user_id=viewer_id).values("friend_id"),
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
