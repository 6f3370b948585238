import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from miniapp.lib.text import validate_one_line
from miniapp.videos.models import Video


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
    # The worker running the source (`lives.runner`: its process) and when it last said so; a
    # live whose runner has been silent for RUNNER_TIMEOUT is taken over by another worker.
    runner = models.CharField(max_length=100, blank=True, editable=False)
    runner_beat = models.DateTimeField(null=True, blank=True, editable=False)
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
    def folder(self) -> str:
        """Its HLS folder, relative to MEDIA_ROOT."""
        return f"lives/{self.key.hex}"
