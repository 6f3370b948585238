from django.db import IntegrityError, transaction
from django.db.models import F

from miniapp.accounts.models import User
from miniapp.accounts.selectors import friend_ids_of
from miniapp.engagement.models import Activity, Like
from miniapp.engagement.selectors import activity_event
from miniapp.realtime.events import send_event_on_commit
from miniapp.videos.models import Video


def _like_count(video_id: int) -> int:
    return Video.objects.values_list("like_count", flat=True).get(pk=video_id)


def notify_activity(activity: Activity, *, friend_ids: list[int] | None = None) -> None:
    """Push a new log entry to whoever may see it: the actor's friends, or its one audience.

    `friend_ids`, when the caller already has the actor's friends, saves the lookup.
    """
    if activity.audience_id:
        recipients = [activity.audience_id]
    else:
        recipients = friend_ids if friend_ids is not None else friend_ids_of(activity.actor_id)
    send_event_on_commit(recipients=recipients, event=activity_event(activity))


@transaction.atomic
def like_create(*, user: User, video: Video) -> tuple[bool, int]:
    """Like `video` (published: the caller checked). A repeat changes nothing.

    One transaction: the like, the counter, the activity entry; friends hear of it
    after the commit. Returns (liked, like_count).
    """
    try:
        with transaction.atomic():  # a savepoint: a concurrent twin may win the unique constraint
            Like.objects.create(user=user, video=video)
    except IntegrityError:
        return True, _like_count(video.pk)
    Video.objects.filter(pk=video.pk).update(like_count=F("like_count") + 1)
    if user.share_likes:
        activity = Activity.objects.create(actor=user, verb=Activity.Verb.LIKE, video=video)
        activity.actor, activity.video = user, video
        notify_activity(activity)
    return True, _like_count(video.pk)


@transaction.atomic
def like_delete(*, user: User, video: Video) -> tuple[bool, int]:
    """Take a like back; its activity entry is withdrawn from friends' feeds. A repeat changes nothing."""
    deleted, _ = Like.objects.filter(user=user, video=video).delete()
    if deleted:
        Video.objects.filter(pk=video.pk, like_count__gt=0).update(like_count=F("like_count") - 1)
        activities_retract(Activity.objects.filter(actor=user, video=video, verb=Activity.Verb.LIKE, retracted=False))
    return False, _like_count(video.pk)


def activities_retract(activities) -> int:
    """Withdraw log entries: mark them and append one retract entry each, pushed to
    the same people who got the entry. Call inside a transaction."""
    targets = list(activities.select_for_update().filter(retracted=False))
    if not targets:
        return 0
    Activity.objects.filter(pk__in=[a.pk for a in targets]).update(retracted=True)
    friends: dict[int, list[int]] = {}  # one friend lookup per actor, not per entry
    for target in targets:
        retraction = Activity.objects.create(
            actor_id=target.actor_id,
            verb=Activity.Verb.RETRACT,
            video_id=target.video_id,
            target=target,
            audience_id=target.audience_id,
        )
        if target.actor_id not in friends:
            friends[target.actor_id] = friend_ids_of(target.actor_id)
        notify_activity(retraction, friend_ids=friends[target.actor_id])
    return len(targets)


@transaction.atomic
def user_set_share_likes(*, user: User, share_likes: bool) -> None:
    """Turn "show my likes to friends" on or off. Off withdraws the likes friends can see now."""
    if user.share_likes == share_likes:
        return
    user.share_likes = share_likes
    user.save(update_fields=["share_likes"])
    if not share_likes:
        activities_retract(Activity.objects.filter(actor=user, verb=Activity.Verb.LIKE))
