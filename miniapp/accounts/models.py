from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """An app user. Most sign in through the provider and have no password."""

    display_name = models.CharField(_("display name"), max_length=64, blank=True)
    # Any http(s) URL the provider hands out; checked in `user_update_profile`.
    avatar_url = models.CharField(_("avatar"), max_length=500, blank=True)
    share_likes = models.BooleanField(_("show my likes to friends"), default=True)

    @property
    def name(self) -> str:
        return self.display_name or self.username


class Friendship(models.Model):
    """One direction of a friendship; every friendship is stored both ways.

    The provider's friend graph is the source: the rows are rewritten from it at
    each sign-in (see `accounts.services.friends_sync`).
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="friendships")
    friend = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "friend"], name="friendship_unique"),
            models.CheckConstraint(condition=~Q(user=F("friend")), name="friendship_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.friend_id}"


class PendingFriend(models.Model):
    """A friend the provider reported who has not signed in to the app yet.

    Keyed by the friend's OpenID for our client; turned into a `Friendship` as
    soon as an account with that OpenID exists.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="pending_friends")
    provider = models.CharField(max_length=64)
    uid = models.CharField(max_length=191)
    nickname = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "provider", "uid"], name="pending_friend_unique"),
        ]
        indexes = [models.Index(fields=["provider", "uid"])]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.provider}:{self.uid}"
