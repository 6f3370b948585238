"""The user's groups come from the provider: at sign-in over real OAuth, and again from the
groups tab with the kept token; members waiting for an account join when they sign up, and
whoever the provider drops leaves."""

import threading

import pytest
from allauth.socialaccount.models import SocialToken
from django.db import connection, transaction
from django.utils import timezone

from miniapp.accounts.models import Group, Membership, PendingMember, User
from miniapp.mockwx.groups import group_set
from tests.fixtures.personas import signin

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def village(identities):
    group, _ = group_set(
        name="王家村", members=[identities[n] for n in ("alice", "bob", "carol", "erin")], owner=identities["alice"]
    )
    return group


def members(name: str = "王家村") -> list[str]:
    group = Group.objects.get(name=name)
    names = sorted(Membership.objects.filter(group=group).values_list("user__username", flat=True))
    assert group.member_count == len(names)  # the kept count follows every change
    return names


def group_names(browser, base) -> list[str]:
    response = browser.get(f"{base}/api/groups/", timeout=10)
    assert response.status_code == 200, response.text
    return [g["name"] for g in response.json()["groups"]]


def test_sign_in_imports_the_groups_and_pending_members_join_when_they_sign_up(live_site, browser, village):
    signin(browser, live_site, "alice")
    assert group_names(browser, live_site) == ["王家村"]
    assert members() == ["alice"]
    assert PendingMember.objects.filter(group__name="王家村").count() == 3  # bob, carol, erin: no account yet
    group = Group.objects.get()
    assert group.provider == "wx" and group.gid and group.gid != village.key
    assert group.avatar_url.startswith(f"{live_site}/mockwx/group-avatar/")

    with browser.__class__() as erin:
        signin(erin, live_site, "erin")
        assert group_names(erin, live_site) == ["王家村"]
    assert members() == ["alice", "erin"]
    assert sorted(PendingMember.objects.values_list("nickname", flat=True)) == ["bob", "carol"]


def test_a_member_the_provider_drops_is_removed_at_the_next_sign_in(live_site, browser, identities, village):
    for name in ("alice", "bob", "erin"):
        with browser.__class__() as session:
            signin(session, live_site, name)
    assert members() == ["alice", "bob", "erin"]
    group_set(name="王家村", members=[identities["alice"], identities["erin"]])
    signin(browser, live_site, "alice")  # alice's list no longer has bob
    assert members() == ["alice", "erin"]
    assert not PendingMember.objects.filter(nickname="bob").exists()


def test_a_user_who_left_a_group_loses_it_at_their_next_sign_in(live_site, browser, identities, village):
    signin(browser, live_site, "erin")
    assert group_names(browser, live_site) == ["王家村"]
    group_set(name="王家村", members=[identities["alice"], identities["bob"]])
    with browser.__class__() as again:
        signin(again, live_site, "erin")
        assert group_names(again, live_site) == []


def test_the_groups_tab_reads_the_groups_again_with_the_kept_token(live_site, browser, identities, village, settings):
    settings.GROUPS_SYNC_SECONDS = 300
    signin(browser, live_site, "erin")
    assert group_names(browser, live_site) == ["王家村"]
    family, _ = group_set(name="家族群", members=[identities["dave"], identities["erin"]], owner=identities["dave"])
    assert group_names(browser, live_site) == ["王家村"]  # read a moment ago: not again yet

    erin = User.objects.get(username="erin")
    User.objects.filter(pk=erin.pk).update(groups_synced=timezone.now() - timezone.timedelta(seconds=301))
    assert sorted(group_names(browser, live_site)) == ["家族群", "王家村"]

    # An expired token is refreshed with the refresh token first (the provider rotates it).
    token = SocialToken.objects.get(account__user=erin)
    SocialToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timezone.timedelta(seconds=1))
    User.objects.filter(pk=erin.pk).update(groups_synced=None)
    group_set(name="家族群", members=[identities["dave"]])
    assert group_names(browser, live_site) == ["王家村"]
    refreshed = SocialToken.objects.get(pk=token.pk)
    assert refreshed.token != token.token and refreshed.expires_at > timezone.now()


def _user(name: str) -> User:
    from allauth.socialaccount.models import SocialAccount

    user = User.objects.create(username=name, display_name=name)
    SocialAccount.objects.create(user=user, provider="wx", uid=f"o-{name}")
    return user


def _village(*names: str) -> list[dict]:
    return [{"gid": "g-village", "name": "王家村", "members": [{"sub": f"o-{n}", "nickname": n} for n in names]}]


def test_a_sync_keeps_the_provider_list_exactly():
    from miniapp.accounts.groups import groups_sync

    alice, bob = _user("alice"), _user("bob")
    groups_sync(user=alice, provider="wx", uid="o-alice", groups=_village("alice", "bob", "erin"))
    assert members() == ["alice", "bob"]
    assert list(PendingMember.objects.values_list("uid", flat=True)) == ["o-erin"]
    # A second list without bob and with a renamed group: bob leaves, the name follows.
    renamed = _village("alice", "erin")
    renamed[0]["name"] = "王家村（新）"
    groups_sync(user=alice, provider="wx", uid="o-alice", groups=renamed)
    assert members("王家村（新）") == ["alice"]
    # Junk entries are skipped, not fatal.
    groups_sync(user=bob, provider="wx", uid="o-bob", groups=[{"name": "no gid"}, {"gid": "x" * 300}])
    assert not Membership.objects.filter(user=bob).exists()


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL only: SQLite writers serialise")
def test_a_member_signing_up_while_another_syncs_joins_once_that_commits():
    """Two syncs of one group take turns (the group's row is upserted first, and locked). But bob
    signing up with no word from the provider joins by the pending rows alone, and alice's
    uncommitted row for him is not there yet: the pass after her commit puts him in."""
    from miniapp.accounts.groups import groups_sync, pending_memberships_claim

    alice = _user("alice")
    synced, release = threading.Event(), threading.Event()
    errors = []

    def alice_signs_in():
        try:
            with transaction.atomic():  # the commit comes after bob's sign-up
                groups_sync(user=alice, provider="wx", uid="o-alice", groups=_village("alice", "bob"))
                synced.set()
                release.wait(timeout=10)
        except Exception as error:  # noqa: BLE001  (the test reports it)
            errors.append(error)
        finally:
            synced.set()
            connection.close()

    thread = threading.Thread(target=alice_signs_in)
    thread.start()
    synced.wait(timeout=10)
    bob = _user("bob")
    pending_memberships_claim(user=bob, provider="wx", uid="o-bob")
    release.set()
    thread.join(timeout=10)
    assert errors == []
    assert members() == ["alice", "bob"]
    assert not PendingMember.objects.exists()


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL only: SQLite writers serialise")
def test_members_signing_in_at_once_take_turns_without_deadlock_and_the_count_is_right():
    """Twelve members of two groups sign up at the same moment, so that each sync finds some
    waiting and some joining after another's commit (the bench's 500 sign-ins once deadlocked
    a sync's recount against the pending members joining after another's commit)."""
    from miniapp.accounts.groups import groups_sync

    names = [f"m{i:02d}" for i in range(12)]
    lists = [
        {"gid": "g-a", "name": "甲", "members": [{"sub": f"o-{n}", "nickname": n} for n in names]},
        {"gid": "g-b", "name": "乙", "members": [{"sub": f"o-{n}", "nickname": n} for n in reversed(names)]},
    ]
    start, errors = threading.Barrier(len(names)), []

    def signs_in(name: str) -> None:
        try:
            start.wait(timeout=10)
            listed = lists[::-1] if int(name[1:]) % 2 else lists  # the provider's order differs
            groups_sync(user=_user(name), provider="wx", uid=f"o-{name}", groups=listed)
        except Exception as error:  # noqa: BLE001  (the test reports it)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=signs_in, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert members("甲") == names and members("乙") == names


def test_the_member_count_follows_a_deleted_account_and_an_admin_edit(admin_client):
    from miniapp.accounts.groups import groups_sync
    from miniapp.moderation.services import user_delete

    alice, bob, erin = _user("alice"), _user("bob"), _user("erin")
    groups_sync(user=alice, provider="wx", uid="o-alice", groups=_village("alice", "bob", "erin"))
    assert members() == ["alice", "bob", "erin"]
    user_delete(user=erin, moderator=User.objects.get(username="admin"), reason="spam")
    assert members() == ["alice", "bob"]

    group = Group.objects.get()
    bob_row = Membership.objects.get(user=bob)
    form = {
        "name": "王家村", "avatar_url": "",
        "memberships-TOTAL_FORMS": "2", "memberships-INITIAL_FORMS": "2",
        "memberships-0-id": str(Membership.objects.get(user=alice).pk), "memberships-0-group": str(group.pk),
        "memberships-0-user": str(alice.pk),
        "memberships-1-id": str(bob_row.pk), "memberships-1-group": str(group.pk),
        "memberships-1-user": str(bob.pk), "memberships-1-DELETE": "on",
        "pending_members-TOTAL_FORMS": "0", "pending_members-INITIAL_FORMS": "0",
    }  # fmt: skip
    response = admin_client.post(f"/admin/accounts/group/{group.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert members() == ["alice"]


def test_the_kept_provider_tokens_are_not_shown_in_admin():
    from django.contrib import admin

    assert not admin.site.is_registered(SocialToken)
