from collections import defaultdict

from django.db.models import QuerySet

from miniapp.accounts.models import Friendship, User


def friends_of(user: User) -> QuerySet[User]:
    return User.objects.filter(pk__in=Friendship.objects.filter(user=user).values("friend_id")).order_by(
        "display_name", "username"
    )


def friend_ids_of(user_id: int) -> list[int]:
    return list(Friendship.objects.filter(user_id=user_id).values_list("friend_id", flat=True))


def friend_ids_by_user(user_ids) -> dict[int, list[int]]:
    """Each user's friends, for many users in one query."""
    found: dict[int, list[int]] = defaultdict(list)
    for user_id, friend_id in Friendship.objects.filter(user_id__in=list(user_ids)).values_list("user_id", "friend_id"):
        found[user_id].append(friend_id)
    return dict(found)
