from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import F, Q
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from miniapp.realtime.events import send_signout_on_commit

# `User.banned_until` of a ban with no end: far enough, and still a date every time zone can show.
BANNED_FOR_GOOD = datetime(3000, 1, 1, tzinfo=UTC)


class User(AbstractUser):
    """An app user. Most sign in through the provider and have no password."""

    display_name = models.CharField(_("display name"), max_length=64, blank=True)
    # Any http(s) URL the provider hands out; checked in `user_update_profile`.
    avatar_url = models.CharField(_("avatar"), max_length=500, blank=True)
    share_likes = models.BooleanField(_("show my likes to friends"), default=True)
    # Raised to end every session of the user at once (`accounts.services.user_sessions_end`).
    session_version = models.PositiveIntegerField(default=0, editable=False)
    # While a ban is in force the user may watch but not write, and friends do not see their
    # likes. The ban itself (who, why, lifted when) is moderation's `Ban`; this is its end,
    # kept by moderation's ban services (BANNED_FOR_GOOD: none), so that the apps below
    # moderation can tell who is banned now without reading its tables. None: not banned.
    banned_until = models.DateTimeField(_("banned until"), null=True, blank=True, editable=False)
    # When the user's groups were last read from the provider (`accounts.groups`): at sign-in,
    # and again from the groups tab once GROUPS_SYNC_SECONDS have passed.
    groups_synced = models.DateTimeField(null=True, blank=True, editable=False)

    @property
    def name(self) -> str:
        return self.display_name or self.username

    def save(self, *args, **kwargs) -> None:
        """A user made inactive (in admin, or any save) is signed out: Django stops trusting their
        sessions at the next request, and their open sockets close once committed. A bulk
        `update()` has no save: the workers' session sweep finds those within a minute."""
        update_fields = kwargs.get("update_fields")
        deactivated = (
            not self.is_active
            and self.pk is not None
            and (update_fields is None or "is_active" in update_fields)
            and type(self)._default_manager.filter(pk=self.pk, is_active=True).exists()
        )
        super().save(*args, **kwargs)
        if deactivated:
            send_signout_on_commit(user_id=self.pk)

    def get_session_auth_hash(self) -> str:
        """Django's: an HMAC of the password hash, which every session keeps and every request
        checks, so that a password change ends the other sessions. With `session_version`
        in it too (once raised), raising that ends them all the same way."""
        return self._session_auth_hash()

    def get_session_auth_fallback_hash(self):
        for secret in settings.SECRET_KEY_FALLBACKS:
            yield self._session_auth_hash(secret)

    def _session_auth_hash(self, secret=None) -> str:
        # Django's salt and, at version 0, Django's value: sessions from before this field stay.
        key_salt = "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash"
        value = self.password if not self.session_version else f"{self.password}:{self.session_version}"
        return salted_hmac(key_salt, value, secret=secret, algorithm="sha256").hexdigest()


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


# A WeChat group holds at most 500 people; the provider's groups are imported as they are.
GROUP_MAX_MEMBERS = 500


class Group(models.Model):
    """A group (社群) at the provider, as our client sees it: by its pairwise id (`gid`, like
    WeChat's openGId), with its name and avatar. The provider owns it: the rows are rewritten
    from its groups endpoint at each sign-in of a member (`accounts.groups.groups_sync`)."""

    provider = models.CharField(max_length=64)
    gid = models.CharField(max_length=191)
    name = models.CharField(_("name"), max_length=64)
    avatar_url = models.CharField(_("avatar"), max_length=500, blank=True)
    members = models.ManyToManyField(User, through="Membership", related_name="chat_groups")
    # Its memberships, counted again whenever they change (`accounts.groups.member_counts_update`):
    # the groups list shows it for every group, and counting 500 rows a group each time cost more
    # than the rest of the list.
    member_count = models.PositiveIntegerField(default=0, editable=False)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "gid"], name="group_gid_unique")]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user in a group, with how far they have read its posts (a post id; 0: nothing read)."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    read_up_to = models.BigIntegerField(default=0)
    joined = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "user"], name="membership_unique")]
        indexes = [models.Index(fields=["user", "group"], name="membership_user")]

    def __str__(self) -> str:
        return f"{self.user_id} ∈ {self.group_id}"


class PendingMember(models.Model):
    """A member the provider listed in a group who has not signed in to the app yet: keyed by
    their OpenID for our client, made a `Membership` once an account with it exists."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="pending_members")
    uid = models.CharField(max_length=191)
    nickname = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "uid"], name="pending_member_unique")]
        indexes = [models.Index(fields=["uid"], name="pending_member_uid")]

    def __str__(self) -> str:
        return f"{self.uid} ∈? {self.group_id}"
