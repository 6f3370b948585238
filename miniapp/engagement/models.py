import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

NOTE_MAX = 140


def share_token() -> str:
    return secrets.token_urlsafe(12)  # 96 random bits: not guessable, short enough for a QR code


class ShareLink(models.Model):
    """One share of a video: a link anyone can open, maybe a note, maybe friends it was sent to.

    A sharer who arrived through someone else's share chains to it (`parent`), so the
    cascade can be followed back and its depth measured: a first share has depth 1.

    A plain link (no friends, no note: copy, QR, WeChat's menu) is `plain`, and there is
    one per sharer and video, held by a unique constraint: two taps at once must not
    count two shares, and only the database can see both at once.
    """

    token = models.CharField(max_length=32, unique=True, default=share_token)
    sharer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shares")
    video = models.ForeignKey("videos.Video", on_delete=models.CASCADE, related_name="shares")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    depth = models.PositiveIntegerField(default=1)
    note = models.CharField(max_length=NOTE_MAX, blank=True)
    recipients = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="shares_received")
    plain = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["video", "sharer"], condition=Q(plain=True), name="share_plain_once")
        ]
        indexes = [models.Index(fields=["video", "sharer"], name="share_video")]

    def __str__(self) -> str:
        return f"{self.sharer_id} ↗ {self.video_id} ({self.token})"


class View(models.Model):
    """A watch of at least a couple of seconds, counted once per viewer, video and day.

    `visitor` names the viewer: "u<id>" for a signed-in user, "b<hash>" for a signed-out
    browser (from the id the server gave it in a signed cookie, `visitors`).
    """

    video = models.ForeignKey("videos.Video", on_delete=models.CASCADE, related_name="views")
    viewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="views"
    )
    visitor = models.CharField(max_length=64)
    day = models.DateField()
    share = models.ForeignKey(ShareLink, null=True, blank=True, on_delete=models.SET_NULL, related_name="views")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["video", "visitor", "day"], name="view_once_a_day")]
        indexes = [models.Index(fields=["viewer", "day"], name="view_viewer")]

    def __str__(self) -> str:
        return f"{self.visitor} ▶ {self.video_id} on {self.day}"


class Like(models.Model):
    """One user's like of one video; a second like of the same video is a no-op."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="likes")
    video = models.ForeignKey("videos.Video", on_delete=models.CASCADE, related_name="likes")
    # The share link the liker arrived through, if any.
    share = models.ForeignKey(ShareLink, null=True, blank=True, on_delete=models.SET_NULL, related_name="likes")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "video"], name="like_once")]
        indexes = [
            models.Index(fields=["video", "user"]),
            # The feed's friends tier: friends' recent likes, answered from the index alone.
            models.Index(fields=["user", "created", "video"], name="like_user_created"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} ♥ {self.video_id}"


class Activity(models.Model):
    """One entry of the activity log, in the order it happened: what friends did ("好友动态"),
    and what was posted in groups (社群).

    The id is the position in the log: clients remember the last id they saw and
    ask for what came after. Withdrawing an entry (an unlike, a hidden video) marks
    it `retracted` and appends a `retract` entry pointing at it, so a client that
    was offline learns about the withdrawal in order too.

    An entry with a `group` is a post in that group (a share into it, or a live's
    announcement): its members see it, and only they, whoever's friends they are.
    Its id is the post's id. Group posts and friends' entries share one log so that a
    socket resumes both from one position (`?after=`).
    """

    class Verb(models.TextChoices):
        LIKE = "like", "like"
        SHARE = "share", "share"
        RETRACT = "retract", "retract"
        LIVE = "live", "live"  # a live announced in a group (a group post, with `live` and no video)
        LIVE_LIKE = "live_like", "live like"  # a user's first like in a live, for their friends (no video)
        COMMENT = "comment", "comment"  # a comment on a video (`comment`, its text in `note`), for friends

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="activities")
    verb = models.CharField(max_length=10, choices=Verb.choices)
    # Every entry but a live's announcement is about a video.
    video = models.ForeignKey("videos.Video", null=True, on_delete=models.CASCADE, related_name="activities")
    live = models.ForeignKey("lives.Live", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # For a retract: the entry it withdraws.
    target = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # For a share to one friend: who may see it (null: all the actor's friends).
    audience = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    note = models.CharField(max_length=NOTE_MAX, blank=True)
    # For a comment: the comment (its entry goes when the comment does).
    comment = models.ForeignKey("Comment", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # For a share: the link the recipient opens.
    share = models.ForeignKey(ShareLink, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # For a group post (and its retraction): the group it is in.
    # No index of its own: `activity_group` below serves every lookup by group (its condition,
    # group not null, follows from any `group = …`), and every like would pay for one.
    group = models.ForeignKey(
        "accounts.Group", null=True, blank=True, on_delete=models.CASCADE, related_name="posts", db_index=False
    )
    created = models.DateTimeField(default=timezone.now)
    retracted = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(video__isnull=False) | Q(live__isnull=False), name="activity_about_something"
            ),
        ]
        indexes = [
            models.Index(fields=["actor", "id"], name="activity_actor"),
            models.Index(fields=["video", "verb"], name="activity_video"),
            # A group's posts in order, and its unread ones after a read position. With the columns of
            # "still standing" (`engagement.selectors._posts`) and the author (whose own posts are not
            # unread to them) in it too, a count of unread posts reads this index alone, up to the
            # cap: PostgreSQL otherwise read every unread entry of every group (a bitmap scan, ~40 ms
            # for 50 groups of 10,000 posts; bench/groups.py).
            models.Index(
                fields=["group", "id", "video", "verb", "retracted", "actor"],
                name="activity_group",
                condition=Q(group__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.actor_id} {self.verb} {self.video_id or f'live {self.live_id}'}"


# The entries about a live rather than a video.
LIVE_VERBS = (Activity.Verb.LIVE, Activity.Verb.LIVE_LIKE)


COMMENT_MAX = 140  # characters, as a share's note


class Comment(models.Model):
    """A comment on a video (评论), or a reply to one.

    Replies are one level deep: a reply to a reply belongs to the same comment (`parent`) and
    names whom it answers (`reply_to`). A comment taken away stays as a row with its status:
    deleted by its author or the video's author, hidden by a moderator.
    """

    class Status(models.TextChoices):
        VISIBLE = "visible", _("Visible")
        DELETED = "deleted", _("Deleted")
        HIDDEN = "hidden", _("Hidden")

    video = models.ForeignKey(
        "videos.Video", on_delete=models.CASCADE, related_name="comments", verbose_name=_("video")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comments", verbose_name=_("author")
    )
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies")
    reply_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.CharField(_("text"), max_length=COMMENT_MAX)
    pinned = models.BooleanField(_("pinned"), default=False)  # by the video's author; one a video
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.VISIBLE)
    created = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("video comment")
        verbose_name_plural = _("video comments")
        constraints = [
            models.UniqueConstraint(fields=["video"], condition=Q(pinned=True), name="comment_one_pinned"),
        ]
        indexes = [
            # A video's comments newest first (a page: `id < before`), and a page's replies.
            models.Index(fields=["video", "parent", "id"], name="comment_video"),
        ]

    def __str__(self) -> str:
        return f"{self.author_id} on {self.video_id}: {self.text[:20]}"

    @property
    def is_visible(self) -> bool:
        return self.status == self.Status.VISIBLE
