import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from miniapp.lib.text import validate_one_line
from miniapp.videos.models import Video

# A clip live's runner beats every tick; silent this long, another worker takes the live.
RUNNER_TIMEOUT = timedelta(seconds=10)
# A camera live's socket beats as chunks come. Quiet CAMERA_PAUSED, the live shows as paused
# ("主播暂时离开"); CAMERA_GONE, its session is closed (another socket may take over); HOST_AWAY,
# the live ends (`lives.runner`).
CAMERA_PAUSED = timedelta(seconds=4)
CAMERA_GONE = timedelta(seconds=5)
HOST_AWAY = timedelta(seconds=30)


class Live(models.Model):
    """A live room (直播间): announced (scheduled), on air (live), then over (ended).

    Its video is HLS in its own folder, `MEDIA_ROOT/lives/<key>/` (never reused), written by
    whichever worker runs its source (`runner`) and read by every worker. The source is one
    of the host's videos played as live (`clip`), or the host's camera.
    """

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        LIVE = "live", _("Live")
        ENDED = "ended", _("Ended")

    class Source(models.TextChoices):
        CLIP = "clip", _("One of my videos, played as live")
        CAMERA = "camera", _("Camera")

    host = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lives", verbose_name=_("host")
    )
    title = models.CharField(_("title"), max_length=60, validators=[validate_one_line])
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.CAMERA)
    clip = models.ForeignKey(
        Video, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("video played")
    )
    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    starts_at = models.DateTimeField(_("starts at"), null=True, blank=True)
    started = models.DateTimeField(_("started"), null=True, blank=True)
    ended = models.DateTimeField(_("ended"), null=True, blank=True)
    end_reason = models.CharField(_("why it ended"), max_length=200, blank=True)
    replay = models.ForeignKey(
        Video, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("replay")
    )
    # The host's choice: a camera live's recording becomes one of their videos when it ends.
    keep_replay = models.BooleanField(_("publish the replay"), default=True)
    # Ended, its recording not yet made into the replay (`lives.replays`, on a runner's tick).
    replay_pending = models.BooleanField(default=False, editable=False)
    # Who sends its source and when it last did: for a clip live, the worker playing it
    # (`lives.runner`), taken over by another once silent for RUNNER_TIMEOUT; for a camera live,
    # the ingest socket receiving it (`lives.consumers`), which beats on the chunks it gets.
    runner = models.CharField(max_length=100, blank=True, editable=False)
    runner_beat = models.DateTimeField(null=True, blank=True, editable=False)
    # The groups it was announced in (`engagement.services.live_announce`): their members hear
    # of its start and end (`lives.services`).
    announced_in = models.ManyToManyField("accounts.Group", blank=True, related_name="+", editable=False)
    # Viewers' taps acknowledged (`lives.taps`): only ever added to, in the same transaction as
    # the batch that counts them.
    likes = models.PositiveBigIntegerField(_("likes"), default=0, editable=False)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("live")
        verbose_name_plural = _("lives")
        indexes = [
            models.Index(fields=["status", "-started"], name="live_status"),
            models.Index(fields=["host", "-created"], name="live_host"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def source_timeout(self) -> timedelta:
        """How long its source may be silent before it is thought gone."""
        return RUNNER_TIMEOUT if self.source == self.Source.CLIP else CAMERA_GONE

    @property
    def paused(self) -> bool:
        """On air, its camera quiet for a few seconds: viewers see "the host stepped away"."""
        if self.status != self.Status.LIVE or self.source != self.Source.CAMERA:
            return False
        last = self.runner_beat or self.started
        return last is None or last < timezone.now() - CAMERA_PAUSED

    @property
    def folder(self) -> str:
        """Its HLS folder, relative to MEDIA_ROOT."""
        return f"lives/{self.key.hex}"


class TapBatch(models.Model):
    """A batch of a viewer's taps, counted: the client names each batch, so one sent again
    (its answer lost) is found here and counted once."""

    live = models.ForeignKey(Live, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    batch = models.CharField(max_length=40)
    taps = models.PositiveSmallIntegerField()  # those counted (the rest were over the rate)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["live", "user", "batch"], name="tap_batch_once")]

    def __str__(self) -> str:
        return f"{self.taps} taps by {self.user_id} in live {self.live_id}"


class Liker(models.Model):
    """A viewer who liked a live: their taps, their first and last, and the current second's
    count against the rate (`lives.taps.TAPS_PER_SECOND`)."""

    live = models.ForeignKey(Live, on_delete=models.CASCADE, related_name="likers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    taps = models.PositiveIntegerField(default=0)
    first = models.DateTimeField(default=timezone.now)
    last = models.DateTimeField(default=timezone.now)
    second = models.DateTimeField(default=timezone.now)  # when the rate's current second began
    second_taps = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["live", "user"], name="liker_once")]
        indexes = [models.Index(fields=["live", "-last"], name="liker_recent")]

    def __str__(self) -> str:
        return f"{self.user_id} liked live {self.live_id} ({self.taps} taps)"


class Presence(models.Model):
    """How many of a live's viewers one worker holds, as it last said (`lives.room`): the room's
    count is the sum of the workers' that spoke lately, so a worker gone stops counting."""

    live = models.ForeignKey(Live, on_delete=models.CASCADE, related_name="+")
    worker = models.CharField(max_length=100)
    viewers = models.PositiveIntegerField()
    beat = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["live", "worker"], name="presence_once")]

    def __str__(self) -> str:
        return f"{self.viewers} viewers of live {self.live_id} on {self.worker}"


class Comment(models.Model):
    """A viewer's comment (评论 / 弹幕) in a live room, shown to every viewer as it comes;
    `removed` by the host or a moderator, it goes from every screen."""

    live = models.ForeignKey(Live, on_delete=models.CASCADE, related_name="comments")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    text = models.CharField(_("text"), max_length=100, validators=[validate_one_line])
    # The host's or a moderator's: never dropped when a viewer's screen gets more than it shows.
    staff = models.BooleanField(default=False)
    removed = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("live comment")
        verbose_name_plural = _("live comments")
        indexes = [models.Index(fields=["live", "-id"], name="comment_live")]

    def __str__(self) -> str:
        return self.text


class Mute(models.Model):
    """A viewer the host or a moderator muted in one live: their comments are refused there."""

    live = models.ForeignKey(Live, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["live", "user"], name="mute_once")]

    def __str__(self) -> str:
        return f"{self.user_id} muted in live {self.live_id}"


class RoomEvent(models.Model):
    """What happened in a room that its viewers are told once (`lives.room_worker`): a comment, a
    comment removed, a viewer coming in. Told once committed on the live's topic (`lives.topics`);
    the rows are the record, read by a room that may have missed some."""

    class Kind(models.TextChoices):
        COMMENT = "comment", "comment"
        GONE = "gone", "comment removed"
        ENTER = "enter", "viewer came in"

    live = models.ForeignKey(Live, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, null=True, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, related_name="+")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["live", "id"], name="room_event_live")]

    def __str__(self) -> str:
        return f"{self.kind} in live {self.live_id}"
