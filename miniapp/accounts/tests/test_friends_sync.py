import threading

import pytest
from allauth.socialaccount.models import SocialAccount
from django.db import connection, transaction

from miniapp.accounts.models import Friendship, PendingFriend, User
from miniapp.accounts.selectors import friends_of
from miniapp.accounts.services import friends_sync

pytestmark = pytest.mark.django_db

ROUNDS, CIRCLE = 10, 8  # circles of friends who all sign in at the same moment


def make_user(name: str) -> User:
    user = User.objects.create(username=name, display_name=name)
    SocialAccount.objects.create(user=user, provider="wx", uid=f"o-{name}")
    return user


def entry(name: str) -> dict:
    return {"sub": f"o-{name}", "nickname": name}


def test_known_friends_become_friendships_both_ways():
    alice, bob = make_user("alice"), make_user("bob")
    friends_sync(user=alice, provider="wx", uid="o-alice", friends=[entry("bob")])
    assert list(friends_of(alice)) == [bob]
    assert list(friends_of(bob)) == [alice]


def test_unknown_friends_wait_and_are_resolved_when_they_sign_in():
    alice = make_user("alice")
    friends_sync(user=alice, provider="wx", uid="o-alice", friends=[entry("bob"), entry("carol")])
    assert set(PendingFriend.objects.values_list("nickname", flat=True)) == {"bob", "carol"}
    assert not friends_of(alice).exists()

    bob = make_user("bob")
    # bob's own list may lag behind; alice's pending entry is enough.
    friends_sync(user=bob, provider="wx", uid="o-bob", friends=[])
    assert list(friends_of(alice)) == [bob]
    assert list(PendingFriend.objects.values_list("nickname", flat=True)) == ["carol"]


def test_friends_missing_from_the_list_are_unfriended_both_ways():
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    friends_sync(user=alice, provider="wx", uid="o-alice", friends=[entry("bob"), entry("carol")])
    friends_sync(user=alice, provider="wx", uid="o-alice", friends=[entry("carol")])
    assert list(friends_of(alice)) == [carol]
    assert not friends_of(bob).exists()


def test_a_pending_friend_dropped_from_the_list_is_forgotten():
    alice = make_user("alice")
    friends_sync(user=alice, provider="wx", uid="o-alice", friends=[entry("bob")])
    friends_sync(user=alice, provider="wx", uid="o-alice", friends=[])
    assert not PendingFriend.objects.exists()


def test_it_ignores_the_user_themself_and_bad_entries():
    alice = make_user("alice")
    friends_sync(user=alice, provider="wx", uid="o-alice", friends=[entry("alice"), {"nickname": "no sub"}, {}])
    assert not Friendship.objects.exists()
    assert not PendingFriend.objects.exists()


def test_it_is_idempotent():
    alice, _ = make_user("alice"), make_user("bob")
    for _ in range(3):
        friends_sync(user=alice, provider="wx", uid="o-alice", friends=[entry("bob")])
    assert Friendship.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_friends_signing_in_at_once_do_not_deadlock():
    """Each sign-in writes both rows of each new friendship. In set order one wrote A→B then
    B→A and another B→A then A→B: PostgreSQL found a deadlock and a sign-in answered 503."""
    errors = []

    def sync(user, friends, start):
        try:
            start.wait(timeout=10)
            friends_sync(user=user, provider="wx", uid=f"o-{user.username}", friends=friends)
        except Exception as error:  # noqa: BLE001  (the test reports it)
            errors.append(error)
        finally:
            connection.close()

    for round_ in range(ROUNDS):
        # A circle of friends who all sign in at the same moment.
        circle = [make_user(f"r{round_}u{i}") for i in range(CIRCLE)]
        start = threading.Barrier(CIRCLE)
        threads = [
            threading.Thread(target=sync, args=(user, [entry(o.username) for o in circle if o != user], start))
            for user in circle
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert errors == []
        for user in circle:
            assert set(friends_of(user)) == set(circle) - {user}


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL only: SQLite writers serialise")
@pytest.mark.parametrize("bob_lists", [["alice"], []], ids=["bob-lists-alice", "bob-list-lags"])
def test_friends_signing_up_at_once_see_each_other_after_commit(bob_lists):
    """alice's transaction keeps bob as pending before bob's account exists, and bob's misses
    alice's uncommitted pending row. With bob's list lagging they were not friends until one
    signed in again; with bob listing alice, alice's stale pending row stayed (and befriended
    them again after bob dropped alice)."""
    alice = make_user("alice")
    synced, release = threading.Event(), threading.Event()
    errors = []

    def alice_signs_in():
        try:
            with transaction.atomic():  # the commit comes after bob's
                friends_sync(user=alice, provider="wx", uid="o-alice", friends=[entry("bob")])
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
    bob = make_user("bob")
    friends_sync(user=bob, provider="wx", uid="o-bob", friends=[entry(name) for name in bob_lists])
    release.set()
    thread.join(timeout=10)

    assert errors == []
    assert list(friends_of(alice)) == [bob]
    assert list(friends_of(bob)) == [alice]
    assert not PendingFriend.objects.exists()
