"""Comments on videos (评论): writing, replying, deleting, pinning and hiding them, the pages the
comment sheet reads, and what the sheet's socket is sent.

A comment is public, on the video, for whoever opens its sheet. Its author's friends also get it
in 好友动态 (an `Activity` with verb `comment`), pushed like a like and withdrawn with the
comment. Whoever has the sheet open hears of comments as they come over `/ws/videos/<id>/comments/`
(`engagement.consumers`): its audience is a video's, not a user's friends, so it is a Channels
group per video (`sheet_group`) rather than the activity hub.
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Q, Window
from django.db.models.functions import RowNumber
from django.utils.translation import gettext as _

from miniapp.accounts.models import User
from miniapp.accounts.serializers import user_body
from miniapp.engagement.models import COMMENT_MAX, NOTE_MAX, Activity, Comment
from miniapp.engagement.services import activities_retract, notify_activity
from miniapp.lib.text import comment_text
from miniapp.realtime.schema import check_sent, event_time
from miniapp.videos.models import Video

log = logging.getLogger(__name__)

VISIBLE = Comment.Status.VISIBLE
PAGE_SIZE = 20  # comments a page, each with its replies
REPLIES_SHOWN = 50  # replies sent with a comment, the oldest first


def sheet_group(video_id: int) -> str:
    return f"comments.video.{video_id}"


class ReplyGone(ValidationError):
    """The comment replied to was removed (before, or while, the reply was written)."""


def comment_create(*, user: User, video: Video, text: str, reply_to: Comment | None = None) -> Comment:
    """`user`'s comment on `video` (published: the caller checked), or their reply to `reply_to`
    (a visible comment of the same video: the caller checked). ValidationError with a message for
    them when the text is empty, too long or not one line of plain text."""
    text = comment_text(text, limit=COMMENT_MAX)
    parent = None
    answered = None
    if reply_to is not None:
        parent = reply_to.parent or reply_to  # one level: a reply to a reply joins the same comment
        answered = reply_to.author if reply_to.parent_id else None  # "回复 @bob" only within replies
    with transaction.atomic():
        # The comment replied to, locked: a removal under way (which locks it too) either finishes
        # first, and the reply is refused, or waits, and takes the reply with it. Never a visible
        # reply, counted, under a removed comment.
        if parent is not None and not Comment.objects.select_for_update().filter(pk=parent.pk, status=VISIBLE).exists():
            raise ReplyGone(_("The comment you reply to was removed."))
        comment = Comment.objects.create(video=video, author=user, parent=parent, reply_to=answered, text=text)
        Video.objects.filter(pk=video.pk).update(comment_count=F("comment_count") + 1)
        if user.share_likes:  # "nothing is pushed to friends" when the user said so
            activity = Activity.objects.create(
                actor=user, verb=Activity.Verb.COMMENT, video=video, comment=comment, note=text[:NOTE_MAX]
            )
            activity.actor, activity.video = user, video
            notify_activity(activity)
        _to_sheet(video.pk, {"type": "comment", "comment": comment_body(comment)})
    return comment


def comment_remove(*, comment: Comment, status: str = Comment.Status.DELETED) -> int:
    """Take a comment away (deleted by its author or the video's, hidden by a moderator), with
    its replies when it has any: off every open sheet and out of friends' 好友动态. Returns how
    many comments went; a repeat removes nothing."""
    with transaction.atomic():
        gone = Comment.objects.filter(Q(pk=comment.pk) | Q(parent_id=comment.pk), status=Comment.Status.VISIBLE)
        ids = list(gone.select_for_update().values_list("pk", flat=True))
        if not ids:
            return 0
        Comment.objects.filter(pk__in=ids).update(status=status, pinned=False)
        Video.objects.filter(pk=comment.video_id).update(comment_count=F("comment_count") - len(ids))
        activities_retract(Activity.objects.filter(verb=Activity.Verb.COMMENT, comment_id__in=ids))
        _to_sheet(comment.video_id, {"type": "comment_gone", "id": comment.pk, "parent": comment.parent_id})
    comment.status = status
    return len(ids)


def comment_pin(*, comment: Comment, pinned: bool) -> None:
    """Pin a comment (not a reply) at the top of its video's sheet, in place of the one pinned
    before; or unpin it. The caller checked that the user is the video's author."""
    if comment.parent_id is not None:
        raise ValidationError(_("Only a comment can be pinned, not a reply."))
    with transaction.atomic():
        # The video's row, locked: two pins at once take turns (one pinned comment a video).
        Video.objects.select_for_update().filter(pk=comment.video_id).exists()
        Comment.objects.filter(video_id=comment.video_id, pinned=True).exclude(pk=comment.pk).update(pinned=False)
        if not Comment.objects.filter(pk=comment.pk, status=VISIBLE).update(pinned=pinned):
            raise ValidationError(_("This comment does not exist or was removed."))
        _to_sheet(comment.video_id, {"type": "comment_pinned", "id": comment.pk if pinned else None})
    comment.pinned = pinned


def may_remove(user, comment: Comment) -> bool:
    """Its author and the video's author may delete a comment."""
    return user.is_authenticated and user.pk in (comment.author_id, comment.video.author_id)


def comment_for_video(*, video_id: int, comment_id: int) -> Comment | None:
    """A visible comment of a published video, with its video and author."""
    return (
        Comment.objects.select_related("video", "author")
        .filter(pk=comment_id, video_id=video_id, status=Comment.Status.VISIBLE, video__status=Video.Status.PUBLISHED)
        .first()
    )


def comment_visible(comment_id: int) -> Comment | None:
    """A visible comment of a published video, whichever video, with its video and author."""
    return (
        Comment.objects.select_related("video", "author")
        .filter(pk=comment_id, status=Comment.Status.VISIBLE, video__status=Video.Status.PUBLISHED)
        .first()
    )


def comments_page(*, video: Video, before: int | None = None) -> tuple[list[dict], int | None]:
    """A page of `video`'s comments for its sheet: the pinned one first (on the first page), then
    the newest first, each with its replies (oldest first) and their count. Returns the page and
    the `before` of the next, None at the end. Three queries."""
    visible = Comment.objects.filter(video=video, status=Comment.Status.VISIBLE).select_related("author", "reply_to")
    tops = visible.filter(parent=None).annotate(
        reply_count=Count("replies", filter=Q(replies__status=Comment.Status.VISIBLE))
    )
    pinned = []
    if before is None:
        pinned = list(tops.filter(pinned=True))
        page = list(tops.filter(pinned=False).order_by("-id")[: PAGE_SIZE + 1])
    else:
        page = list(tops.filter(pinned=False, id__lt=before).order_by("-id")[: PAGE_SIZE + 1])
    more = len(page) > PAGE_SIZE
    page = pinned + page[:PAGE_SIZE]
    # The first REPLIES_SHOWN replies of each comment, numbered in the database: not every reply.
    numbered = visible.filter(parent__in=[comment.pk for comment in page]).annotate(
        n=Window(RowNumber(), partition_by=F("parent_id"), order_by=F("id").asc())
    )
    replies: dict[int, list[Comment]] = {}
    for reply in numbered.filter(n__lte=REPLIES_SHOWN).order_by("id"):
        replies.setdefault(reply.parent_id, []).append(reply)
    bodies = [
        {
            **comment_body(comment),
            "reply_count": comment.reply_count,
            "replies": [comment_body(reply) for reply in replies.get(comment.pk, [])],
        }
        for comment in page
    ]
    return bodies, (page[-1].pk if more else None)


def comment_body(comment: Comment) -> dict:
    """A comment as the API and the sheet's socket give it. Reads `author` and `reply_to`."""
    author, answered = comment.author, comment.reply_to
    return {
        "id": comment.pk,
        "video": comment.video_id,
        "parent": comment.parent_id,
        "author": user_body(author),
        "reply_to": {"id": answered.pk, "name": answered.name} if answered else None,
        "text": comment.text,
        "pinned": comment.pinned,
        "created": event_time(comment.created),
    }


def sheet_video_gone(video_id: int) -> None:
    """A moderator took the video down: its open sheets close, signed out ones too (they have no
    activity socket to hear `video_gone` on)."""
    _to_sheet(video_id, {"type": "video_gone", "video": video_id})


def _to_sheet(video_id: int, event: dict) -> None:
    """Tell the video's open sheets, once the transaction commits. A hint: a sheet that missed it
    reads the comments again when its socket comes back."""
    check_sent(event, "sheet")

    def send():
        try:
            async_to_sync(get_channel_layer().group_send)(
                sheet_group(video_id), {"type": "sheet.event", "event": event}
            )
        except Exception:  # the comment is saved; open sheets catch up when they reconnect
            log.exception("the comment sheet of video %s was not told of a %s", video_id, event["type"])

    transaction.on_commit(send)
