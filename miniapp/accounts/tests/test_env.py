import pytest
from django.core.exceptions import ImproperlyConfigured

from miniapp.lib.env import env_bool, env_float, env_int, env_list, env_url


def test_env_bool(monkeypatch):
    monkeypatch.setenv("FLAG", "yes")
    assert env_bool("FLAG", False) is True
    monkeypatch.setenv("FLAG", "0")
    assert env_bool("FLAG", True) is False
    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="FLAG"):
        env_bool("FLAG", True)
    monkeypatch.delenv("FLAG")
    assert env_bool("FLAG", True) is True


def test_env_int(monkeypatch):
    monkeypatch.setenv("N", "12")
    assert env_int("N", 1) == 12
    monkeypatch.setenv("N", "twelve")
    with pytest.raises(ImproperlyConfigured, match="whole number"):
        env_int("N", 1)
    monkeypatch.setenv("N", "-3")
    with pytest.raises(ImproperlyConfigured, match="at least 0"):
        env_int("N", 1, minimum=0)


def test_env_float(monkeypatch):
    assert env_float("X_FLOAT", 0.2, minimum=0, maximum=1) == 0.2
    monkeypatch.setenv("X_FLOAT", "0.5")
    assert env_float("X_FLOAT", 0.2, minimum=0, maximum=1) == 0.5
    for bad in ["lots", "1.5", "-0.1"]:
        monkeypatch.setenv("X_FLOAT", bad)
        with pytest.raises(ImproperlyConfigured, match="X_FLOAT"):
            env_float("X_FLOAT", 0.2, minimum=0, maximum=1)


def test_env_url(monkeypatch):
    monkeypatch.setenv("SITE", "https://example.com/")
    assert env_url("SITE", "") == "https://example.com"
    for bad in ["example.com", "ftp://example.com", "https://example.com/?a=1"]:
        monkeypatch.setenv("SITE", bad)
        with pytest.raises(ImproperlyConfigured, match="SITE"):
            env_url("SITE", "")


def test_env_list(monkeypatch):
    monkeypatch.setenv("HOSTS", "a.example, b.example,,")
    assert env_list("HOSTS", []) == ["a.example", "b.example"]
