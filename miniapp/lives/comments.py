"""Comments (评论 / 弹幕) in a live room, and the host's and moderators' say over them.

A comment is written with a `RoomEvent`, told once committed to every worker's room on the live's
topic (`lives.topics`), which sends it to its viewers at its next tick (`lives.room_worker`);
removing one writes another (`comment_gone`). A viewer coming in is one too (`enter`), told to
their friends in the room and, sampled, to the others. The rows are the record: a room that may
have missed some on its topic reads them.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from miniapp.accounts.models import User
from miniapp.accounts.serializers import user_body
from miniapp.lib.text import comment_text
from miniapp.lives import topics
from miniapp.lives.models import Comment, Live, Mute, RoomEvent
from miniapp.realtime.schema import event_time

COMMENT_MAX = 100
HELLO_COMMENTS = 20  # the latest comments a new socket gets
GONE_MAX = 50  # removed comments a reconnect is told of: more than a screen shows (30)
MISSED_MAX = 50  # at most this many missed comments on a reconnect


def room_moderator(user, live: Live) -> bool:
    """The host, or a moderator (who may end lives): may remove comments and mute viewers."""
    if user is None or not user.is_authenticated:
        return False
    return user.pk == live.host_id or (user.is_staff and user.has_perm("moderation.end_live"))


def comment_create(*, live: Live, user: User, text: str) -> Comment:
    """`user`'s comment in `live` (on air). ValidationError with a message for them: empty, too
    long, not one line of plain text, the live not on air; PermissionDenied when muted here."""
    text = comment_text(text, limit=COMMENT_MAX)
    if live.status != Live.Status.LIVE:
        raise ValidationError(_("This live is not on air: comments are open only while it is."))
    with transaction.atomic():
        _hold(user)  # a mute of this user commits before this check or waits for this comment
        if Mute.objects.filter(live=live, user=user).exists():
            raise PermissionDenied(_("The host has muted you in this live."))
        comment = Comment.objects.create(live=live, user=user, text=text, staff=room_moderator(user, live))
        _told(RoomEvent.objects.create(live=live, kind=RoomEvent.Kind.COMMENT, comment=comment, user=user))
    return comment


def comment_remove(*, comment: Comment) -> None:
    """Take a comment off every screen (the caller checked `room_moderator`). Again: nothing."""
    with transaction.atomic():
        if Comment.objects.filter(pk=comment.pk, removed=False).update(removed=True):
            _told(RoomEvent.objects.create(live_id=comment.live_id, kind=RoomEvent.Kind.GONE, comment=comment))
    comment.removed = True


def mute(*, live: Live, user: User, by: User) -> None:
    """Refuse `user`'s comments in `live` from now on (the caller checked `by`), and take their
    comments there off every screen."""
    if user.pk == live.host_id:
        raise ValidationError(_("The host cannot be muted in their own live."))
    with transaction.atomic():
        _hold(user)  # a comment of theirs under way commits first, and is removed below
        Mute.objects.get_or_create(live=live, user=user, defaults={"by": by})
        for comment in Comment.objects.filter(live=live, user=user, removed=False):
            comment_remove(comment=comment)


def _hold(user: User) -> None:
    """Lock the user's row until the commit: a comment and a mute of the same user go one after
    the other (on PostgreSQL; SQLite has one writer at a time anyway)."""
    list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))


def entered(*, live_id: int, user: User) -> None:
    """A signed-in viewer came into the room: their friends there are told ("bob 来了")."""
    with transaction.atomic():
        _told(RoomEvent.objects.create(live_id=live_id, kind=RoomEvent.Kind.ENTER, user=user))


def _told(event: RoomEvent) -> None:
    frame = event_frame(event)
    if frame is not None:
        topics.tell_on_commit(event.live_id, {"event": [event.pk, event.kind, frame]})


def event_frame(event: RoomEvent) -> dict | None:
    """What viewers get of a room event (None: a comment removed since)."""
    if event.kind == RoomEvent.Kind.COMMENT:
        return None if event.comment.removed else comment_body(event.comment)
    if event.kind == RoomEvent.Kind.GONE:
        return {"type": "comment_gone", "id": event.comment_id}
    return {"type": "notice", "kind": "enter", "user": user_body(event.user)}


def comment_body(comment: Comment) -> dict:
    return {
        "type": "comment",
        "id": comment.pk,
        "user": user_body(comment.user),
        "text": comment.text,
        "staff": comment.staff,
        "created": event_time(comment.created),
    }


def comments_for_hello(live_id: int, *, after: int | None = None) -> list[dict]:
    """The comments a new socket gets, oldest first: those after `after` (a reconnect: what it
    missed, up to MISSED_MAX), else the latest HELLO_COMMENTS."""
    comments = Comment.objects.filter(live_id=live_id, removed=False).select_related("user")
    if after is not None:
        rows = list(comments.filter(id__gt=after).order_by("id")[:MISSED_MAX])
    else:
        rows = list(reversed(comments.order_by("-id")[:HELLO_COMMENTS]))
    return [comment_body(row) for row in rows]


def gone_for_hello(live_id: int, *, after: int) -> list[int]:
    """For a reconnect (`after`: the newest comment it showed): the latest GONE_MAX comments up to
    it that were removed, which it may still show (their removal came while it was away)."""
    removed = Comment.objects.filter(live_id=live_id, removed=True, id__lte=after).order_by("-id")
    return list(removed.values_list("id", flat=True)[:GONE_MAX])
