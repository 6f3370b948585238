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


class Activity(models.Model):
    """One entry of the friends' activity log ("好友动态"), in the order it happened.

    The id is the position in the log: clients remember the last id they saw and
    ask for what came after. Withdrawing an entry (an unlike, a hidden video) marks
    it `retracted` and appends a `retract` entry pointing at it, so a client that
    was offline learns about the withdrawal in order too.
    """

    class Verb(models.TextChoices):
        LIKE = "like", "like"
        SHARE = "share", "share"
        RETRACT = "retract", "retract"

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="activities")
    verb = models.CharField(max_length=10, choices=Verb.choices)
    video = models.ForeignKey("videos.Video", on_delete=models.CASCADE, related_name="activities")
    # For a retract: the entry it withdraws.
    target = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # For a share to one friend: who may see it (null: all the actor's friends).
    audience = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    note = models.CharField(max_length=140, blank=True)
    created = models.DateTimeField(default=timezone.now)
    retracted = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["actor", "id"], name="activity_actor"),
            models.Index(fields=["video", "verb"], name="activity_video"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_id} {self.verb} {self.video_id}"
