"""The provider's groups (WeChat's 群): who is in which, and what an app may learn of them.

An app sees a group by a pairwise id, as WeChat hands out an openGId per app, and its members
by their pairwise OpenIDs, through the `groups` endpoint (scope `groups`). Groups are made
with `manage.py mockwx_group`, in the provider's admin, and by `seed_demo`.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch

from miniapp.mockwx.models import GROUP_MAX_MEMBERS, Client, Group, Identity
from miniapp.mockwx.services import issuer, letter_avatar_svg, matches_nothing, pairwise_id, person_claims


def gid_for(*, client: Client, group: Group) -> str:
    """The group's pairwise id for one client, shaped like WeChat's openGId (`pairwise_id`)."""
    return pairwise_id(kind="gid", client=client, key=group.key)


def group_avatar_url(group: Group) -> str:
    return f"{issuer()}/group-avatar/{group.key}.svg"


def group_avatar_svg(group: Group) -> str:
    return letter_avatar_svg(group.name, seed=group.key, rounded=False)


def groups_claims(*, client: Client, identity: Identity) -> list[dict]:
    """The groups `identity` is in, as the `groups` endpoint answers `client`: two queries."""
    members = Prefetch("members", queryset=Identity.objects.order_by("pk"))
    return [
        {
            "gid": gid_for(client=client, group=group),
            "name": group.name,
            "avatar": group_avatar_url(group),
            "members": [person_claims(client=client, identity=member) for member in group.members.all()],
        }
        for group in identity.groups.order_by("pk").prefetch_related(members)
    ]


def group_by_key(key: str) -> Group | None:
    if matches_nothing(key):
        return None
    return Group.objects.filter(key=key).first()


def group_members_check(members: list[Identity]) -> None:
    if len(members) > GROUP_MAX_MEMBERS:
        raise ValidationError(
            "A group holds at most %(max)d members; this one would have %(count)d.",
            code="too_many_members",
            params={"max": GROUP_MAX_MEMBERS, "count": len(members)},
        )


@transaction.atomic
def group_set(*, name: str, members: list[Identity], owner: Identity | None = None) -> tuple[Group, bool]:
    """The group called `name` with exactly `members` (the owner among them), made if new.
    Returns the group and whether it was made. The owner stays as it was when None is given."""
    group = Group.objects.select_for_update().filter(name=name).first()
    created = group is None
    if created:
        group = Group(name=name)
    if owner is not None:
        group.owner = owner
    members = list(dict.fromkeys([*([group.owner] if group.owner else []), *members]))
    group_members_check(members)
    group.full_clean(exclude=["key", "members"])
    group.save()
    group.members.set(members)
    return group, created
