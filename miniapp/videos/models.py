import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from miniapp.lib.text import validate_multiline, validate_one_line


def media_folder() -> str:
    # One folder a video, never reused, so its files can be cached forever.
    return f"videos/{uuid.uuid4().hex}"


class Video(models.Model):
    class Status(models.TextChoices):
        PUBLISHED = "published", _("Published")
        HIDDEN = "hidden", _("Hidden")
        REMOVED = "removed", _("Removed")

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="videos", verbose_name=_("author")
    )
    title = models.CharField(_("title"), max_length=80, validators=[validate_one_line])
    description = models.TextField(_("description"), max_length=500, blank=True, validators=[validate_multiline])
    file = models.FileField(_("video file"), max_length=200)
    # JPEG, the video's size: the share card's source, and og:image when there is no card.
    poster = models.FileField(_("poster"), max_length=200)
    # The WebP pages show (`videos.posters`); empty only if it could not be made (see `page_poster`).
    poster_webp = models.FileField(_("poster (WebP)"), max_length=200, blank=True)
    # The link preview image (og:image), 1200×630; empty for videos made before it existed.
    card = models.FileField(_("share card"), max_length=200, blank=True)
    duration = models.FloatField(_("duration"), help_text=_("seconds"))
    size = models.PositiveBigIntegerField(_("size"), help_text=_("bytes"))
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PUBLISHED)
    like_count = models.PositiveIntegerField(_("likes"), default=0)
    share_count = models.PositiveIntegerField(_("shares"), default=0)
    # Comments and replies standing (engagement.comments keeps it).
    comment_count = models.PositiveIntegerField(_("comments"), default=0)
    created = models.DateTimeField(_("posted"), default=timezone.now)
    # Like velocity with time decay, kept by the like services (see `videos.hotness`).
    hot = models.FloatField(_("hot score"))

    class Meta:
        verbose_name = _("video")
        verbose_name_plural = _("videos")
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["status", "-created", "-id"], name="video_feed"),
            models.Index(fields=["author", "-created"], name="video_author"),
            models.Index(fields=["status", "-hot", "-id"], name="video_hot"),
            # Media requests look their video up by file, to withhold a hidden video's files.
            models.Index(fields=["file"], name="video_file"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    @property
    def page_poster(self):
        """The poster pages and the API show: the WebP, or the JPEG for a video that has none (its JPEG
        was unreadable when migration 0007 made the others', or an older worker stored it meanwhile)."""
        return self.poster_webp or self.poster

    def stored_files(self) -> list:
        """Every file of the video that is stored (video, posters, card)."""
        return [field for field in (self.file, self.poster, self.poster_webp, self.card) if field]
