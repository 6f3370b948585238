from collections import defaultdict

from django.db.models import Q, QuerySet
from django.utils import timezone

from miniapp.accounts.models import Friendship, Group, Membership, User


def not_banned(path: str = "", *, now=None) -> Q:
    """Users (at `path`, e.g. "friend__") whom no ban keeps from writing now: their
    `banned_until` is unset or past. The one place the apps below moderation read a ban."""
    field = f"{path}banned_until"
    return Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__lte": now or timezone.now()})


def friends_of(user: User) -> QuerySet[User]:
    return User.objects.filter(pk__in=Friendship.objects.filter(user=user).values("friend_id")).order_by(
        "display_name", "username"
    )


def friend_ids_of(user_id: int) -> list[int]:
    return list(Friendship.objects.filter(user_id=user_id).values_list("friend_id", flat=True))


def are_friends(user_id: int, other_id: int) -> bool:
    return Friendship.objects.filter(user_id=user_id, friend_id=other_id).exists()


def friend_ids_by_user(user_ids) -> dict[int, list[int]]:
    """Each user's friends, for many users in one query."""
    found: dict[int, list[int]] = defaultdict(list)
    for user_id, friend_id in Friendship.objects.filter(user_id__in=list(user_ids)).values_list("user_id", "friend_id"):
        found[user_id].append(friend_id)
    return dict(found)


def group_ids_of(user_id: int) -> QuerySet:
    """The ids of the user's groups (`group_id` values), as a subquery."""
    return Membership.objects.filter(user_id=user_id).values("group_id")


def groups_of_member(*, user_id: int, group_ids) -> dict[int, Group]:
    """Those of these groups the user is in, by id (a share into them, a live announced in them)."""
    group_ids = list(group_ids)
    return Group.objects.filter(pk__in=group_ids, memberships__user_id=user_id).in_bulk() if group_ids else {}


def group_for_member(*, group_id: int, user_id: int) -> Group | None:
    """The group, if the user is in it; None for anyone else (who is told it does not exist)."""
    return Group.objects.filter(pk=group_id, memberships__user_id=user_id).first()


def member_ids_by_group(group_ids) -> dict[int, list[int]]:
    """Each group's members, for many groups in one query."""
    found: dict[int, list[int]] = defaultdict(list)
    for group_id, user_id in Membership.objects.filter(group_id__in=list(group_ids)).values_list("group_id", "user_id"):
        found[group_id].append(user_id)
    return dict(found)
