"""What the activity log sends to sockets and to `/api/activity/`: one event per log entry.

The wire format (`activity`, `retract`) is catalogued in `realtime.schema`; these are its builders.
"""

from datetime import UTC

from django.urls import reverse

from miniapp.engagement.models import Activity


def activity_event(activity: Activity) -> dict:
    """The event for one log entry: `retract_event` for a retraction, else an `activity`.

    Reads `actor`, `video` and, for a share, `share`: select them with the entry."""
    if activity.verb == Activity.Verb.RETRACT:
        return retract_event(activity)
    actor, video = activity.actor, activity.video
    event = {
        "type": "activity",
        "id": activity.pk,
        "seq": activity.pk,
        "verb": activity.verb,
        "actor": {"id": actor.pk, "name": actor.name, "avatar": actor.avatar_url},
        "video": {"id": video.pk, "title": video.title, "poster_url": video.poster.url},
        "created": activity.created.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "url": reverse("video-detail", args=[video.pk]),
    }
    if activity.verb == Activity.Verb.SHARE:
        event["note"] = activity.note
        if activity.share_id:  # opening the share from the feed credits it
            event["url"] += f"?s={activity.share.token}"
    return event


def retract_event(retraction: Activity) -> dict:
    """A retraction entry's event: the entry it withdraws (`id`), at the retraction's place in the log."""
    return {"type": "retract", "id": retraction.target_id, "seq": retraction.pk}
