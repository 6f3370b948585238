from urllib.parse import urlsplit

from django.db import transaction
from django.db.models import F, Q

from miniapp.accounts.models import Friendship, PendingFriend, User
from miniapp.realtime.events import send_signout_on_commit


def http_url(url: str) -> str:
    """`url` if it is an absolute http(s) URL, else "": it ends up in an <img src>."""
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else ""


def user_update_profile(*, user: User, display_name: str, avatar_url: str) -> None:
    """Copy the provider's nickname and avatar onto the user when they changed."""
    display_name = display_name.strip()[:64]
    avatar_url = http_url(avatar_url.strip())[:500]
    if (user.display_name, user.avatar_url) == (display_name, avatar_url):
        return
    user.display_name = display_name
    user.avatar_url = avatar_url
    user.full_clean(exclude=["password", "username"])
    user.save(update_fields=["display_name", "avatar_url"])


def user_sessions_end(*, user: User) -> None:
    """Sign `user` out everywhere: every session they have stops signing them in (a new
    `session_version` changes their session auth hash, which each request checks), and
    their open sockets close once committed. They may sign in again."""
    User.objects.filter(pk=user.pk).update(session_version=F("session_version") + 1)
    user.refresh_from_db(fields=["session_version"])
    send_signout_on_commit(user_id=user.pk)


def _befriend(user_id: int, friend_ids: set[int]) -> None:
    """Both directions, in one statement, in (user, friend) order: two sign-ins befriending the
    same pair at once then take the unique index's locks in the same order and cannot deadlock
    (in set order, one wrote A→B then B→A while the other wrote B→A then A→B)."""
    pairs = sorted({pair for friend_id in friend_ids for pair in ((user_id, friend_id), (friend_id, user_id))})
    Friendship.objects.bulk_create([Friendship(user_id=a, friend_id=b) for a, b in pairs], ignore_conflicts=True)


def _befriend_waiting(user_id: int, provider: str, uid: str, friend_ids: set[int]) -> None:
    """Befriend `friend_ids` and whoever listed `uid` before it had an account, in one
    statement (see _befriend); the pending rows for `uid` go."""
    waiting = PendingFriend.objects.filter(provider=provider, uid=uid)
    _befriend(user_id, friend_ids | set(waiting.values_list("user_id", flat=True)))
    waiting.delete()


@transaction.atomic
def _pending_resolve(*, user_id: int, provider: str, uid: str) -> None:
    """Resolve what `friends_sync` could not see, once its transaction has committed.

    Two friends signing up at once: A's transaction kept B as pending before B's account
    committed, and B's missed A's pending row because A had not committed yet. This pass
    befriends A's pending friends who have an account now and whoever waits for A's `uid`.
    It is enough: each user's `SocialAccount` commits before their `friends_sync` starts,
    so of two racing sign-ins the pass that runs last sees both commits. Where writers
    serialise (SQLite) nothing is left to resolve.
    """
    from allauth.socialaccount.models import SocialAccount

    mine = PendingFriend.objects.filter(user_id=user_id, provider=provider)
    known = dict(
        SocialAccount.objects.filter(provider=provider, uid__in=mine.values("uid")).values_list("uid", "user_id")
    )
    _befriend_waiting(user_id, provider, uid, set(known.values()))
    mine.filter(uid__in=known).delete()


def _unfriend(user_id: int, friend_ids: set[int]) -> None:
    Friendship.objects.filter(
        Q(user_id=user_id, friend_id__in=friend_ids) | Q(user_id__in=friend_ids, friend_id=user_id)
    ).delete()


@transaction.atomic
def friends_sync(*, user: User, provider: str, uid: str, friends: list[dict]) -> None:
    """Make `user`'s friends match the provider's list, in both directions.

    `uid` is the user's own OpenID at `provider`; `friends` holds the provider's
    entries (`{"sub", "nickname"}`). Friends who have an account become
    friendships; the others wait as `PendingFriend` rows, which are resolved when
    that friend signs in. Friends missing from the list are unfriended.
    """
    from allauth.socialaccount.models import SocialAccount

    nicknames = {str(f["sub"]): str(f.get("nickname") or "")[:64] for f in friends if f.get("sub")}
    known = dict(SocialAccount.objects.filter(provider=provider, uid__in=nicknames).values_list("uid", "user_id"))
    wanted = set(known.values()) - {user.pk}
    current = set(Friendship.objects.filter(user=user).values_list("friend_id", flat=True))
    _unfriend(user.pk, current - wanted)

    PendingFriend.objects.filter(user=user, provider=provider).exclude(uid__in=nicknames).delete()
    PendingFriend.objects.bulk_create(
        [
            PendingFriend(user=user, provider=provider, uid=sub, nickname=nickname)
            for sub, nickname in nicknames.items()
            if sub not in known
        ],
        ignore_conflicts=True,
    )

    # Whoever listed this user before they had an account is their friend now.
    _befriend_waiting(user.pk, provider, uid, wanted - current)
    # A friend signing up at this moment and this transaction cannot see each other's rows:
    # look again once committed. Robust: the sign-in has committed by then, so a failing
    # pass is logged and does not fail it.
    transaction.on_commit(lambda: _pending_resolve(user_id=user.pk, provider=provider, uid=uid), robust=True)


@transaction.atomic
def user_get_or_create_for_provider(*, provider: str, uid: str, nickname: str, avatar_url: str) -> User:
    """The user behind `provider`/`uid`, created as a provider sign-in would create it.

    Used by `seed_demo`, so the demo personas exist in the app before anyone signs in.
    """
    from allauth.socialaccount.models import SocialAccount
    from allauth.utils import generate_unique_username

    account = SocialAccount.objects.filter(provider=provider, uid=uid).select_related("user").first()
    if account is None:
        user = User.objects.create(username=generate_unique_username([nickname, "wx"]))
        user.set_unusable_password()
        user.save(update_fields=["password"])
        account = SocialAccount.objects.create(
            user=user, provider=provider, uid=uid, extra_data={"userinfo": {"sub": uid, "nickname": nickname}}
        )
    user_update_profile(user=account.user, display_name=nickname, avatar_url=avatar_url)
    return account.user
