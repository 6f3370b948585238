"""What the activity log sends to sockets and to `/api/activity/`: one event per log entry.

The wire format (`activity`, `retract`, `group_post`, `group_read`) is catalogued in
`realtime.schema`; these are its builders. A group post's body (`post_body`) is also what
`/api/groups/{id}/posts/` answers.
"""

from django.urls import reverse

from miniapp.accounts.serializers import user_body
from miniapp.engagement.models import Activity
from miniapp.realtime.schema import event_time


def activity_event(activity: Activity) -> dict:
    """The event for one log entry: `retract_event` for a retraction, `group_post_event` for a
    group's post, else an `activity`.

    Reads `actor`, `video` and, for a share, `share`: select them with the entry."""
    if activity.verb == Activity.Verb.RETRACT:
        return retract_event(activity)
    if activity.group_id is not None:
        return group_post_event(activity)
    if activity.verb == Activity.Verb.LIVE_LIKE:
        return _live_like_event(activity)
    actor, video = activity.actor, activity.video
    event = {
        "type": "activity",
        "id": activity.pk,
        "seq": activity.pk,
        "verb": activity.verb,
        "actor": user_body(actor),
        "video": {"id": video.pk, "title": video.title, "poster_url": video.page_poster.url},
        "created": event_time(activity.created),
        "url": reverse("video-detail", args=[video.pk]),
    }
    if activity.verb == Activity.Verb.COMMENT:  # opens the video with its comments
        event["note"] = activity.note
        event["url"] += "?comments=1"
    if activity.verb == Activity.Verb.SHARE:
        event["note"] = activity.note
        if activity.share_id:  # opening the share from the feed credits it
            event["url"] += f"?s={activity.share.token}"
    return event


def _live_like_event(activity: Activity) -> dict:
    """A friend's first like in a live: "bob 给 alice 的直播点赞", opening the room. Reads `live`
    and its `host`."""
    actor, live = activity.actor, activity.live
    return {
        "type": "activity",
        "id": activity.pk,
        "seq": activity.pk,
        "verb": activity.verb,
        "actor": user_body(actor),
        "video": None,
        "live": {
            "id": live.pk,
            "title": live.title,
            "host": user_body(live.host),
            "status": live.status,
        },
        "created": event_time(activity.created),
        "url": reverse("live", args=[live.pk]),
    }


def retract_event(retraction: Activity) -> dict:
    """A retraction entry's event: the entry it withdraws (`id`), at the retraction's place in the log."""
    return {"type": "retract", "id": retraction.target_id, "seq": retraction.pk}


def post_body(post: Activity, *, views: int = 0) -> dict:
    """A group post as the API and the `group_post` event carry it. `views`: the people who
    watched through it (the API counts them; a new post has none)."""
    author, video = post.actor, post.video
    if post.live_id is not None:
        return _live_post_body(post)
    url = reverse("video-detail", args=[video.pk])
    if post.share_id:  # opening the post credits its share link
        url += f"?s={post.share.token}"
    return {
        "id": post.pk,
        "group": post.group_id,
        "kind": "share",
        "author": user_body(author),
        "video": {
            "id": video.pk,
            "title": video.title,
            "poster_url": video.page_poster.url,
            "like_count": video.like_count,
            "duration": round(video.duration, 1),
        },
        "live": None,
        "note": post.note,
        "url": url,
        "views": views,
        "created": event_time(post.created),
    }


def _live_post_body(post: Activity) -> dict:
    """A live announced in a group: the live's state when read (scheduled, on air, ended)."""
    author, live = post.actor, post.live
    return {
        "id": post.pk,
        "group": post.group_id,
        "kind": "live",
        "author": user_body(author),
        "video": None,
        "live": {
            "id": live.pk,
            "title": live.title,
            "status": live.status,
            "starts_at": event_time(live.starts_at) if live.starts_at else None,
        },
        "note": post.note,
        "url": reverse("live", args=[live.pk]),
        "views": 0,
        "created": event_time(post.created),
    }


def group_post_event(post: Activity, *, views: int = 0) -> dict:
    """A post in a group, to its members; `seq` is its log position (its id)."""
    return {"type": "group_post", "group": post.group_id, "post": post_body(post, views=views), "seq": post.pk}


def group_read_event(*, group_id: int, last_id: int, unread: int, total_unread: int) -> dict:
    """A member read a group up to `last_id` (on some page): their other pages clear its badge."""
    return {
        "type": "group_read",
        "group": group_id,
        "last_id": last_id,
        "unread": unread,
        "total_unread": total_unread,
    }
