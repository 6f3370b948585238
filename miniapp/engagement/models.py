from django.conf import settings
from django.db import models
from django.utils import timezone


class Like(models.Model):
    """One user's like of one video; a second like of the same video is a no-op."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="likes")
    video = models.ForeignKey("videos.Video", on_delete=models.CASCADE, related_name="likes")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "video"], name="like_once")]
        indexes = [models.Index(fields=["video", "user"])]

    def __str__(self) -> str:
        return f"{self.user_id} ♥ {self.video_id}"
