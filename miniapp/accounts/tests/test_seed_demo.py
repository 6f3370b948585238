import io

import pytest
from django.core.management import CommandError, call_command

from miniapp.accounts.models import User
from miniapp.accounts.selectors import friends_of
from miniapp.mockwx.models import Client, Group, Identity

pytestmark = pytest.mark.django_db


def seed(*args):
    call_command("seed_demo", *args, stdout=io.StringIO())


def test_it_loads_the_personas_and_is_idempotent():
    seed()
    seed()
    personas = {"alice", "bob", "carol", "dave", "erin"}
    assert set(Identity.objects.values_list("nickname", flat=True)) == personas
    alice = User.objects.get(username="alice")
    assert sorted(u.username for u in friends_of(alice)) == ["bob", "carol", "dave"]
    assert not friends_of(User.objects.get(username="erin")).exists()
    assert User.objects.count() == 6
    # The provider's groups: erin, nobody's friend, is in 王家村.
    groups = {g.name: (g.owner.nickname, [m.nickname for m in g.members.order_by("pk")]) for g in Group.objects.all()}
    assert groups == {"王家村": ("alice", ["alice", "bob", "carol", "erin"]), "家族群": ("alice", ["alice", "dave"])}


def test_it_makes_a_moderator_who_may_moderate_but_not_administer(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    seed()
    moderator = User.objects.get(username="moderator")
    password = (tmp_path / "moderator-password").read_text().strip()
    assert moderator.check_password(password) and len(password) >= 16
    assert (tmp_path / "moderator-password").stat().st_mode & 0o777 == 0o600
    seed()  # idempotent: the password stays
    assert User.objects.get(username="moderator").check_password(password)
    assert moderator.is_staff and not moderator.is_superuser
    assert [g.name for g in moderator.groups.all()] == ["moderators"]
    assert moderator.has_perms(["moderation.moderate_video", "moderation.ban_user", "videos.view_video"])
    assert not moderator.has_perm("accounts.change_user")
    assert not friends_of(moderator).exists()


def test_it_registers_the_demo_client_for_both_loopback_names(settings):
    settings.SITE_URL = "http://127.0.0.1:8123"
    seed()
    client = Client.objects.get(client_id=settings.OIDC_CLIENT_ID)
    assert client.redirect_uri_list == [
        "http://127.0.0.1:8123/accounts/oidc/wx/login/callback/",
        "http://localhost:8123/accounts/oidc/wx/login/callback/",
    ]
    assert client.check_client_secret(settings.OIDC_CLIENT_SECRET)


def test_it_adds_load_test_users_with_a_hub():
    seed("--users", "10", "--friends", "4")
    hub = Identity.objects.get(nickname="user0001")
    assert hub.friends.count() == 9
    for name in ["user0002", "user0005", "user0010"]:
        identity = Identity.objects.get(nickname=name)
        assert identity.friends.count() == 5  # the hub and 4 among the others
    seed("--users", "10", "--friends", "2")
    assert Identity.objects.get(nickname="user0005").friends.count() == 3
    load = Group.objects.get(name="load")
    assert sorted(load.members.values_list("nickname", flat=True)) == [f"user{i:04d}" for i in range(1, 11)]


def test_it_refuses_impossible_numbers():
    with pytest.raises(CommandError):
        seed("--users", "3", "--friends", "5")
    with pytest.raises(CommandError):
        seed("--users", "-1")


def test_signing_in_as_a_persona_called_moderator_never_gets_the_moderators_account(settings, tmp_path):
    from miniapp.accounts.services import user_get_or_create_for_provider

    settings.VAR_DIR = tmp_path
    seed()
    impostor = user_get_or_create_for_provider(provider="wx", uid="x", nickname="moderator", avatar_url="")
    assert impostor.username != "moderator" and not impostor.is_staff
