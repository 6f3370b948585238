"""The provider's groups: what an app learns of them (pairwise ids, members by OpenID, only
with the `groups` scope), and how they are made (the command, the admin, the 500 limit)."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from miniapp.mockwx import services
from miniapp.mockwx.groups import gid_for, group_set
from miniapp.mockwx.models import Client, Group, Identity
from tests.fixtures.oauth import REDIRECT_URI, OAuthApp

pytestmark = pytest.mark.django_db


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def village(identities):
    group, _ = group_set(
        name="王家村",
        members=[identities[n] for n in ("alice", "bob", "carol", "erin")],
        owner=identities["alice"],
    )
    return group


def test_the_groups_endpoint_lists_my_groups_with_members_by_openid(oauth, identities, village):
    group_set(name="家族群", members=[identities["alice"], identities["dave"]], owner=identities["alice"])
    group_set(name="not mine", members=[identities["bob"]], owner=identities["bob"])
    access = oauth.tokens_for("alice", scope="openid groups")["access_token"]

    response = oauth.http.get("/mockwx/groups", **bearer(access))

    assert response.status_code == 200
    groups = response.json()["groups"]
    assert [g["name"] for g in groups] == ["王家村", "家族群"]
    first = groups[0]
    assert first["gid"] == gid_for(client=oauth.client, group=village)
    assert first["avatar"].endswith(f"/mockwx/group-avatar/{village.key}.svg")
    assert [m["nickname"] for m in first["members"]] == ["alice", "bob", "carol", "erin"]
    erin = first["members"][3]
    assert erin["sub"] == services.openid_for(client=oauth.client, identity=identities["erin"])
    assert erin["picture"].endswith(f"/mockwx/avatar/{identities['erin'].unionid}.svg")
    assert village.key not in json.dumps(response.json()).replace(first["avatar"], "")  # never the key itself


def test_group_ids_are_pairwise_per_client(oauth, client, village):
    other, secret = services.client_register(name="other", redirect_uris=[REDIRECT_URI])
    second = OAuthApp(client, other, secret)
    mine = oauth.http.get("/mockwx/groups", **bearer(oauth.tokens_for("bob", scope="openid groups")["access_token"]))
    theirs = client.get("/mockwx/groups", **bearer(second.tokens_for("bob", scope="openid groups")["access_token"]))
    assert mine.json()["groups"][0]["gid"] != theirs.json()["groups"][0]["gid"]
    again = oauth.http.get("/mockwx/groups", **bearer(oauth.tokens_for("bob", scope="openid groups")["access_token"]))
    assert again.json()["groups"][0]["gid"] == mine.json()["groups"][0]["gid"]


def test_the_groups_endpoint_needs_the_groups_scope(oauth, village):
    access = oauth.tokens_for("alice", scope="openid profile friends")["access_token"]
    response = oauth.http.get("/mockwx/groups", **bearer(access))
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"
    assert oauth.http.get("/mockwx/groups").status_code == 401


def test_someone_in_no_group_gets_an_empty_list(oauth, village):
    access = oauth.tokens_for("dave", scope="openid groups")["access_token"]
    assert oauth.http.get("/mockwx/groups", **bearer(access)).json() == {"groups": []}


def test_discovery_offers_the_groups_endpoint_and_scope(client, settings):
    settings.SITE_URL = "http://testserver"
    doc = client.get("/mockwx/.well-known/openid-configuration").json()
    assert doc["groups_endpoint"] == "http://testserver/mockwx/groups"
    assert "groups" in doc["scopes_supported"]


def test_group_avatars_are_svg_and_escape_the_name(client, identities):
    group, _ = group_set(name="<b>群", members=[identities["alice"]])
    response = client.get(f"/mockwx/group-avatar/{group.key}.svg")
    assert response["Content-Type"] == "image/svg+xml"
    assert b"&lt;" in response.content and b"<b>" not in response.content
    assert client.get("/mockwx/group-avatar/nothing.svg").status_code == 404


def test_the_command_makes_a_group_then_sets_its_members(identities, capsys):
    call_command("mockwx_group", "王家村", "--members", "alice,bob,erin", "--owner", "alice")
    made = json.loads(capsys.readouterr().out)
    assert (made["owner"], made["members"], made["created"]) == ("alice", ["alice", "bob", "erin"], True)

    call_command("mockwx_group", "王家村", "--members", "bob,carol")
    changed = json.loads(capsys.readouterr().out)
    assert changed["key"] == made["key"] and changed["created"] is False
    assert changed["owner"] == "alice"  # kept; the owner stays a member
    assert changed["members"] == ["alice", "bob", "carol"]
    assert Group.objects.count() == 1


def test_the_command_names_unknown_members(identities):
    with pytest.raises(CommandError, match="no identity called zoe"):
        call_command("mockwx_group", "群", "--members", "alice,zoe")
    assert not Group.objects.exists()


def test_a_group_holds_at_most_500(identities):
    Identity.objects.bulk_create([Identity(nickname=f"m{i:03d}") for i in range(500)])
    everyone = list(Identity.objects.all())
    assert len(everyone) > 500
    with pytest.raises(CommandError, match="at most 500"):
        call_command("mockwx_group", "big", "--members", ",".join(i.nickname for i in everyone))
    group, _ = group_set(name="big", members=everyone[:500])
    assert group.members.count() == 500


def test_the_admin_refuses_a_501st_member(admin_client, identities):
    Identity.objects.bulk_create([Identity(nickname=f"m{i:03d}") for i in range(500)])
    members = [str(pk) for pk in Identity.objects.values_list("pk", flat=True)]
    response = admin_client.post("/admin/mockwx/group/add/", {"name": "big", "owner": members[0], "members": members})
    assert response.status_code == 200
    assert "at most 500" in response.content.decode()
    assert not Group.objects.exists()
    response = admin_client.post("/admin/mockwx/group/add/", {"name": "ok", "members": members[:500]})
    assert response.status_code == 302
    assert Group.objects.get().members.count() == 500


def test_new_clients_may_ask_for_groups(db):
    """New clients get the scope by default (migration 0006 adds it to those that had friends)."""
    made, _ = services.client_register(name="new", redirect_uris=[REDIRECT_URI])
    assert "groups" in Client.objects.get(pk=made.pk).scope.split()
