import hashlib
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from miniapp.accounts.models import Group, Membership, User
from miniapp.accounts.selectors import friend_ids_by_user, friend_ids_of, member_ids_by_group
from miniapp.engagement.events import activity_event, group_read_event
from miniapp.engagement.models import Activity, Like, ShareLink, View
from miniapp.engagement.selectors import group_last_post_id, group_unread, unread_total
from miniapp.lib.returning import update_returning
from miniapp.lives import taps
from miniapp.lives.models import Live
from miniapp.realtime.events import events_batch, send_event_on_commit
from miniapp.videos import hotness
from miniapp.videos.models import Video


def _like_count(video_id: int) -> int:
    return Video.objects.values_list("like_count", flat=True).get(pk=video_id)


def _video_update(video: Video, field: str, **values) -> int:
    """Update the video's row with `values` and answer the new value of `field`, in one
    statement (a counter's new value without reading it again)."""
    ((value,),) = update_returning(Video.objects.filter(pk=video.pk), [field], **values)
    return value


def notify_activity(activity: Activity, *, friend_ids: list[int] | None = None) -> None:
    """Push a new log entry to whoever may see it: the members of its group, its one
    audience, or the actor's friends.

    `friend_ids`, when the caller already has them (the actor's friends; for a group's
    entry, its members), saves the lookup.
    """
    if activity.group_id:
        recipients = (
            friend_ids
            if friend_ids is not None
            else member_ids_by_group([activity.group_id]).get(activity.group_id, [])
        )
    elif activity.audience_id:
        recipients = [activity.audience_id]
    else:
        recipients = friend_ids if friend_ids is not None else friend_ids_of(activity.actor_id)
    send_event_on_commit(recipients=recipients, event=activity_event(activity))


def like_create(*, user: User, video: Video, share: ShareLink | None = None) -> tuple[bool, int]:
    """Like `video` (published: the caller checked). A repeat changes nothing.

    One transaction: the like (credited to the share link it came through, if any),
    the counter and hot score, the activity entry; friends hear of it after the
    commit. Returns (liked, like_count).
    """
    inserted = False
    try:
        with transaction.atomic():
            # First in the transaction, so that when a concurrent twin has won the unique
            # constraint there is nothing else to undo: no savepoint (two statements) needed.
            like = Like.objects.create(user=user, video=video, share=share)
            inserted = True
            count = _video_update(
                video, "like_count", like_count=F("like_count") + 1, hot=hotness.plus_like(like.created)
            )
            if user.share_likes:
                activity = Activity.objects.create(actor=user, verb=Activity.Verb.LIKE, video=video)
                activity.actor, activity.video = user, video
                notify_activity(activity)
            return True, count
    except IntegrityError:
        if inserted:  # not the twin: something else is wrong
            raise
    return True, _like_count(video.pk)


@transaction.atomic
def like_delete(*, user: User, video: Video) -> tuple[bool, int]:
    """Take a like back; its activity entry is withdrawn from friends' feeds. A repeat changes nothing."""
    like = Like.objects.filter(user=user, video=video).select_for_update().first()
    if like is None:
        return False, _like_count(video.pk)
    like.delete()
    # The row stays locked until the commit, so the count read here is the count.
    hot, count = Video.objects.select_for_update().values_list("hot", "like_count").get(pk=video.pk)
    hot = hotness.without_like(hot, liked=like.created, created=video.created)
    if hot is None:  # that like outweighed the rest: count what is left again
        hot = hotness.score(video.created, list(Like.objects.filter(video=video).values_list("created", flat=True)))
    count = max(count - 1, 0)
    Video.objects.filter(pk=video.pk).update(like_count=count, hot=hot)
    activities_retract(Activity.objects.filter(actor=user, video=video, verb=Activity.Verb.LIKE, retracted=False))
    return False, count


def activities_retract(activities) -> int:
    """Withdraw log entries: mark them and append one retract entry each, pushed to
    the same people who got the entry. Call inside a transaction.

    A constant number of queries however many entries (hiding a video withdraws every
    like of it): the retractions are inserted together, the actors' friends are read
    in one query, and the events go in one channel-layer message (`events_batch`).
    """
    targets = list(activities.select_for_update().filter(retracted=False).exclude(verb=Activity.Verb.RETRACT))
    if not targets:
        return 0
    Activity.objects.filter(pk__in=[a.pk for a in targets]).update(retracted=True)
    retractions = Activity.objects.bulk_create(
        Activity(
            actor_id=target.actor_id,
            verb=Activity.Verb.RETRACT,
            video_id=target.video_id,
            live_id=target.live_id,
            target=target,
            audience_id=target.audience_id,
            group_id=target.group_id,
        )
        for target in targets
    )
    friends = friend_ids_by_user({target.actor_id for target in targets if target.group_id is None})
    members = member_ids_by_group({target.group_id for target in targets if target.group_id is not None})
    with events_batch():
        for retraction in retractions:
            if retraction.group_id is None:
                notify_activity(retraction, friend_ids=friends.get(retraction.actor_id, []))
            else:
                notify_activity(retraction, friend_ids=members.get(retraction.group_id, []))
    return len(targets)


@transaction.atomic
def user_set_share_likes(*, user: User, share_likes: bool) -> None:
    """Turn "show my likes to friends" on or off. Off withdraws the likes (and comments) friends
    can see in 好友动态 now; the comments stay on their videos."""
    if user.share_likes == share_likes:
        return
    user.share_likes = share_likes
    user.save(update_fields=["share_likes"])
    if not share_likes:
        activities_retract(Activity.objects.filter(actor=user, verb__in=[Activity.Verb.LIKE, Activity.Verb.COMMENT]))


def _share_parent(*, sharer: User, video: Video, arrived_via: ShareLink | None) -> ShareLink | None:
    """The share this one continues: the link the sharer arrived through, else the latest
    share of this video sent to them. Never one of their own."""
    if arrived_via is not None and arrived_via.video_id == video.pk and arrived_via.sharer_id != sharer.pk:
        return arrived_via
    return ShareLink.objects.filter(video=video, recipients=sharer).exclude(sharer=sharer).order_by("-created").first()


def share_create(
    *, sharer: User, video: Video, recipients: list[User], note: str = "", arrived_via: ShareLink | None = None
) -> tuple[ShareLink, bool]:
    """Share `video` (published: the caller checked) with a note, to friends or just as a link.

    Friends it is sent to get a `share` entry in their activity feed, live. A plain link
    (no friends, no note) is made once per sharer and video and then handed out again, so
    copying a link twice does not count twice: the `share_plain_once` constraint decides
    between two made at the same moment. Returns (link, created); `video.share_count` is
    then the count this share's update left.
    """
    plain = not recipients and not note
    if plain and (existing := _plain_link(sharer=sharer, video=video)) is not None:
        return existing, False
    parent = _share_parent(sharer=sharer, video=video, arrived_via=arrived_via)
    share = ShareLink(
        sharer=sharer, video=video, note=note, plain=plain, parent=parent, depth=parent.depth + 1 if parent else 1
    )
    share.full_clean(validate_constraints=False)  # the constraint is the insert's to check
    inserted = False
    try:
        with transaction.atomic():
            # First write in the transaction, as in `like_create`: when a twin made at the
            # same moment wins the constraint, nothing else has to be undone.
            share.save()
            inserted = True
            share.recipients.set(recipients)
            video.share_count = _video_update(video, "share_count", share_count=F("share_count") + 1)
            entries = Activity.objects.bulk_create(
                Activity(actor=sharer, verb=Activity.Verb.SHARE, video=video, audience=friend, note=note, share=share)
                for friend in recipients
            )
            with events_batch():  # one entry per friend, one channel-layer message
                for entry in entries:
                    entry.actor, entry.video = sharer, video
                    notify_activity(entry)
    except IntegrityError:
        if inserted or not plain or (existing := _plain_link(sharer=sharer, video=video)) is None:
            raise  # not the twin's link: something else is wrong
        return existing, False
    return share, True


def group_posts_create(
    *, sharer: User, video: Video, groups: list[Group], note: str = "", arrived_via: ShareLink | None = None
) -> list[Activity]:
    """Share `video` (published: the caller checked) into groups the sharer is in (the caller
    checked), with one note: one post a group, each with its own share link, so that what a
    group's members watch and like through it is credited to that post.

    A constant number of queries however many members: no row per member. Every member's
    sockets hear of the post once committed, the sharer's own other pages too.
    `video.share_count` is then the count this share's update left.
    """
    if not groups:
        return []
    parent = _share_parent(sharer=sharer, video=video, arrived_via=arrived_via)
    depth = parent.depth + 1 if parent else 1
    # Inside the share API's transaction no savepoint (two more round trips): a failure here
    # undoes the whole share, which is what it should do.
    with transaction.atomic(savepoint=False):
        links = ShareLink.objects.bulk_create(
            ShareLink(sharer=sharer, video=video, note=note, parent=parent, depth=depth) for _ in groups
        )
        video.share_count = _video_update(video, "share_count", share_count=F("share_count") + len(links))
        posts = Activity.objects.bulk_create(
            Activity(actor=sharer, verb=Activity.Verb.SHARE, video=video, note=note, share=link, group=group)
            for group, link in zip(groups, links, strict=True)
        )
        members = member_ids_by_group(group.pk for group in groups)
        with events_batch():  # one channel-layer message for every group's post
            for post in posts:
                post.actor, post.video = sharer, video
                notify_activity(post, friend_ids=members.get(post.group_id, []))
    return posts


def live_announce(*, live: Live, groups: list[Group]) -> list[Activity]:
    """Announce `live` in groups its host is in (the caller checked): one post a group, which
    shows the live's state as it goes (预告, on air, ended); every member's sockets hear of it
    once committed, and of its start and end later (`lives.services.tell_groups`)."""
    if not groups:
        return []
    with transaction.atomic(savepoint=False):
        live.announced_in.add(*groups)
        return _live_posts(live, groups)


def live_started(*, live: Live) -> list[Activity]:
    """An announced live went on air: a "直播开始了" post in each group it was announced in (a
    live post again, at the bottom of the chat, counted unread), pushed to the members."""
    return _live_posts(live, list(live.announced_in.all()))


def _live_posts(live: Live, groups: list[Group]) -> list[Activity]:
    if not groups:
        return []
    with transaction.atomic(savepoint=False):
        posts = Activity.objects.bulk_create(
            Activity(actor=live.host, verb=Activity.Verb.LIVE, live=live, group=group) for group in groups
        )
        members = member_ids_by_group(group.pk for group in groups)
        with events_batch():
            for post in posts:
                post.actor, post.live = live.host, live
                notify_activity(post, friend_ids=members.get(post.group_id, []))
    return posts


def live_like(*, user: User, live: Live, count: int, batch: str) -> taps.Counted:
    """Count a batch of `user`'s taps in `live` (on air: else ValidationError) once per `batch`,
    in a transaction of its own; their first like in it goes into their friends' 好友动态
    (`live_liked`). Tap requests take the group commit instead (`lives.tap_requests`)."""
    return taps.taps_add(live_id=live.pk, user=user, taps=count, batch=batch, on_first=live_liked)


def live_liked(user: User, live: Live) -> None:
    """In the taps' commit (`lives.taps`, its `on_first`): a user's first like in a live, an
    entry for their friends."""
    if not user.share_likes or user.pk == live.host_id:
        return
    live = Live.objects.select_related("host").get(pk=live.pk)  # the entry shows its title and host
    entry = Activity.objects.create(actor=user, verb=Activity.Verb.LIVE_LIKE, live=live)
    entry.actor, entry.live = user, live
    notify_activity(entry)


def group_read(*, user: User, group: Group, last_id: int) -> tuple[int, int]:
    """Move the user's read position in `group` (a member: the caller checked) up to post
    `last_id`; it never moves back. Returns (unread in the group, unread in all), and tells
    the user's other pages, which clear the badge."""
    last_id = min(last_id, group_last_post_id(group.pk))
    Membership.objects.filter(group=group, user=user, read_up_to__lt=last_id).update(read_up_to=last_id)
    read_up_to = Membership.objects.values_list("read_up_to", flat=True).get(group=group, user=user)
    unread, total = group_unread(group_id=group.pk, after=read_up_to, user_id=user.pk), unread_total(user_id=user.pk)
    event = group_read_event(group_id=group.pk, last_id=read_up_to, unread=unread, total_unread=total)
    send_event_on_commit(recipients=[user.pk], event=event)
    return unread, total


def _plain_link(*, sharer: User, video: Video) -> ShareLink | None:
    return ShareLink.objects.filter(sharer=sharer, video=video, plain=True).first()


def visitor_key(*, user: User | None, browser: str = "") -> str:
    """Who is watching, for counting views once: the user, or a signed-out browser (a hash of
    the id the server gave it, `visitors.visitor_id`)."""
    if user is not None:
        return f"u{user.pk}"
    return "b" + hashlib.sha256(browser.encode()).hexdigest()[:40]


def view_record(
    *, video: Video, visitor: str, viewer: User | None, share: ShareLink | None, now: datetime | None = None
) -> bool:
    """Count a watch of `video` (the caller checked it lasted long enough), once per visitor and day.

    Credited to the share link the visitor arrived through. Returns whether it counted.
    """
    now = now or timezone.now()
    day = timezone.localdate(now)
    try:
        with transaction.atomic():
            View.objects.create(video=video, viewer=viewer, visitor=visitor, day=day, share=share, created=now)
    except IntegrityError:
        return False
    return True
