"""The user's groups (社群), as the provider lists them: imported at sign-in and again from
the groups tab (`groups_refresh`), the way friends are (`accounts.services.friends_sync`).

The provider's list is the record. A member with an account is a `Membership`; one without
waits as a `PendingMember` under their OpenID and joins when they sign up; a member the
provider no longer lists is removed, and so is a group the user is no longer in.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils import timezone

from miniapp.accounts.models import GROUP_MAX_MEMBERS, Group, Membership, PendingMember, User
from miniapp.accounts.provider import groups_fetch, stored_token
from miniapp.accounts.services import http_url

# OpenIDs looked up per query: SQLite allows 32,766 parameters, a user may be in 50 groups of 500.
LOOKUP_BATCH = 5000


def _accounts(provider: str, uids) -> dict[str, int]:
    """user id by OpenID, for those of `uids` who have an account."""
    from allauth.socialaccount.models import SocialAccount

    found: dict[str, int] = {}
    uids = sorted(uids)
    for start in range(0, len(uids), LOOKUP_BATCH):
        chunk = uids[start : start + LOOKUP_BATCH]
        found.update(SocialAccount.objects.filter(provider=provider, uid__in=chunk).values_list("uid", "user_id"))
    return found


def _parse(groups: list[dict], uid: str) -> dict[str, dict]:
    """The provider's entries by gid: name, avatar and members ({OpenID: nickname}), the user
    among them. Entries without a gid are skipped; names and lists are cut to what we keep."""
    parsed: dict[str, dict] = {}
    for entry in groups:
        gid = str(entry.get("gid") or "")
        if not gid or len(gid) > 191:
            continue
        members = entry.get("members") if isinstance(entry.get("members"), list) else []
        subs = {
            str(member["sub"]): str(member.get("nickname") or "")[:64]
            for member in members[:GROUP_MAX_MEMBERS]
            if isinstance(member, dict) and member.get("sub") and len(str(member["sub"])) <= 191
        }
        subs.setdefault(uid, "")
        name = str(entry.get("name") or "").strip()[:64] or gid[:64]
        parsed[gid] = {"name": name, "avatar": http_url(str(entry.get("avatar") or ""))[:500], "members": subs}
    return parsed


@transaction.atomic
def groups_sync(*, user: User, provider: str, uid: str, groups: list[dict]) -> None:
    """Make `user`'s groups, and the members of each, match the provider's list.

    `uid` is the user's OpenID at `provider`; `groups` holds the provider's entries
    (`{"gid", "name", "avatar", "members": [{"sub", "nickname"}]}`).

    Two members signing in at once take turns: each first locks the rows of the groups it
    will change (`groups_lock`: those it is in and those listed; the upsert then locks the
    new ones), so the second reads the accounts once the first has committed. Rows are
    locked and written in one order (groups by gid, memberships by group then user), so
    that two users in several of the same groups cannot deadlock.
    """
    parsed = _parse(groups, uid)
    groups_lock(
        Group.objects.filter(Q(provider=provider, gid__in=list(parsed)) | Q(memberships__user=user)).values("pk")
    )
    Group.objects.bulk_create(
        [
            Group(provider=provider, gid=gid, name=g["name"], avatar_url=g["avatar"])
            for gid, g in sorted(parsed.items())
        ],
        update_conflicts=True,
        unique_fields=["provider", "gid"],
        update_fields=["name", "avatar_url"],
    )
    ids = dict(Group.objects.filter(provider=provider, gid__in=list(parsed)).values_list("gid", "pk"))
    known = _accounts(provider, {sub for g in parsed.values() for sub in g["members"]})
    known[uid] = user.pk

    # The user leaves the groups the provider no longer lists them in.
    left = Membership.objects.filter(user=user).exclude(group_id__in=ids.values())
    left_ids = list(left.values_list("group_id", flat=True))
    left.delete()
    PendingMember.objects.filter(uid=uid, group__provider=provider).exclude(group_id__in=ids.values()).delete()

    members = sorted({(ids[gid], known[sub]) for gid, g in parsed.items() for sub in g["members"] if sub in known})
    Membership.objects.bulk_create(
        [Membership(group_id=group_id, user_id=user_id) for group_id, user_id in members], ignore_conflicts=True
    )
    pending = sorted(
        (ids[gid], sub, nickname)
        for gid, g in parsed.items()
        for sub, nickname in g["members"].items()
        if sub not in known
    )
    for gid, g in sorted(parsed.items()):
        listed = [known[sub] for sub in g["members"] if sub in known]
        Membership.objects.filter(group_id=ids[gid]).exclude(user_id__in=listed).delete()
        waiting = [sub for sub in g["members"] if sub not in known]
        PendingMember.objects.filter(group_id=ids[gid]).exclude(uid__in=waiting).delete()
    PendingMember.objects.bulk_create(
        [PendingMember(group_id=group_id, uid=sub, nickname=nickname) for group_id, sub, nickname in pending],
        ignore_conflicts=True,
    )
    member_counts_update([*ids.values(), *left_ids])
    User.objects.filter(pk=user.pk).update(groups_synced=timezone.now())
    # A member signing up at this moment without a word from the provider joins by the pending
    # rows (`pending_memberships_claim`), and cannot see this transaction's: look again once
    # committed (as `accounts.services._pending_resolve` does for friends).
    group_ids = sorted(ids.values())
    transaction.on_commit(lambda: pending_members_resolve(provider=provider, group_ids=group_ids), robust=True)


@transaction.atomic
def pending_members_resolve(*, provider: str, group_ids: list[int]) -> None:
    """Members of these groups who were waiting for an account and have one now join them."""
    groups_lock(group_ids)
    waiting = PendingMember.objects.filter(group_id__in=group_ids)
    known = _accounts(provider, set(waiting.values_list("uid", flat=True)))
    if not known:
        return
    rows = sorted(set(waiting.filter(uid__in=known).values_list("group_id", "uid")))
    Membership.objects.bulk_create(
        [Membership(group_id=group_id, user_id=known[uid]) for group_id, uid in rows], ignore_conflicts=True
    )
    waiting.filter(uid__in=known).delete()
    member_counts_update(group_id for group_id, _ in rows)


@transaction.atomic
def pending_memberships_claim(*, user: User, provider: str, uid: str) -> None:
    """A new account joins the groups where it was waiting under its OpenID. (Its own
    `groups_sync` does this too, when the provider lists its groups at sign-in.)"""
    waiting = PendingMember.objects.filter(uid=uid, group__provider=provider)
    groups_lock(waiting.values("group_id"))
    rows = list(waiting.values_list("group_id", flat=True))
    if rows:
        Membership.objects.bulk_create(
            [Membership(group_id=group_id, user=user) for group_id in sorted(rows)], ignore_conflicts=True
        )
        PendingMember.objects.filter(uid=uid, group_id__in=rows).delete()
        member_counts_update(rows)


def groups_lock(group_ids) -> None:
    """Lock these groups' rows until the transaction ends (ids, or a query of them), in the
    one order every writer of memberships takes them (the provider's gid, as the sync's
    upsert). Whoever changes a group's memberships takes its lock first, so that writers of
    one group take turns and `member_counts_update` counts what the others committed.
    (The lock leaves foreign keys alone: a post or a read position can still point at it.)"""
    groups = Group.objects.select_for_update(no_key=True).filter(pk__in=group_ids).order_by("provider", "gid")
    list(groups.values_list("pk", flat=True))


def member_counts_update(group_ids) -> None:
    """Count the members of these groups again (`Group.member_count`), in the transaction that
    changed their memberships and after `groups_lock`: a statement of its own, it sees what
    the group's other writers committed before this transaction had the lock."""
    ids = sorted(set(group_ids))
    if not ids:
        return
    count = Membership.objects.filter(group_id=OuterRef("pk")).values("group_id").annotate(n=Count("*")).values("n")
    Group.objects.filter(pk__in=ids).update(member_count=Coalesce(Subquery(count), 0))


def groups_refresh(request: HttpRequest, *, user: User) -> bool:
    """Read the user's groups from the provider again if GROUPS_SYNC_SECONDS have passed since
    the last time, with the token kept from their sign-in. Returns whether it did.

    The slot is claimed first (one UPDATE): of two tabs opening at once only one reads, and
    only one may refresh the token, which the provider allows once. Called outside a
    transaction: the provider's answer is waited for with no database connection held.
    """
    if not settings.OIDC_FETCH_GROUPS:
        return False
    now = timezone.now()
    since = now - timedelta(seconds=settings.GROUPS_SYNC_SECONDS)
    if user.groups_synced is not None and user.groups_synced > since:
        return False  # as loaded with the request: read lately (the UPDATE below decides when not)
    due = Q(groups_synced__isnull=True) | Q(groups_synced__lte=since)
    if not User.objects.filter(due, pk=user.pk).update(groups_synced=now):
        return False
    from allauth.socialaccount.models import SocialAccount

    account = SocialAccount.objects.filter(user=user, provider=settings.OIDC_PROVIDER_ID).first()
    access_token = stored_token(request, user_id=user.pk) if account is not None else None
    groups = groups_fetch(request, access_token=access_token) if access_token else None
    if groups is None:
        return False
    groups_sync(user=user, provider=account.provider, uid=account.uid, groups=groups)
    return True
