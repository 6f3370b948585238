import json

import pytest
from django.core.management import CommandError, call_command

from miniapp.mockwx.models import Client


def test_it_registers_a_client_and_prints_its_credentials(db, capsys):
    call_command("mockwx_client", "shop", "--redirect-uri", "https://a.example/cb", "--redirect-uri", "http://b/cb")
    printed = json.loads(capsys.readouterr().out)
    client = Client.objects.get(client_id=printed["client_id"])
    assert client.redirect_uri_list == ["https://a.example/cb", "http://b/cb"]
    assert client.check_client_secret(printed["client_secret"])
    assert printed["client_secret"] not in client.secret_hash


def test_running_it_again_rotates_the_secret(db, capsys):
    call_command("mockwx_client", "shop", "--redirect-uri", "https://a.example/cb")
    first = json.loads(capsys.readouterr().out)
    call_command("mockwx_client", "shop", "--redirect-uri", "https://c.example/cb")
    second = json.loads(capsys.readouterr().out)
    assert first["client_id"] == second["client_id"]
    client = Client.objects.get()
    assert not client.check_client_secret(first["client_secret"])
    assert client.check_client_secret(second["client_secret"])
    assert client.redirect_uri_list == ["https://c.example/cb"]


def test_it_refuses_a_bad_redirect_uri(db):
    with pytest.raises(CommandError, match="absolute http"):
        call_command("mockwx_client", "shop", "--redirect-uri", "javascript:alert(1)")
