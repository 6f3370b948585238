"""The whole suite's set-up: the shared fixtures (tests/fixtures), compiled translations,
and a channel layer of each test's own."""

from pathlib import Path

import pytest
from django.utils.translation.reloader import translation_file_changed

from miniapp.lib.catalogs import catalogs_compile

pytest_plugins = [
    "tests.fixtures.personas",
    "tests.fixtures.sockets",
    "tests.fixtures.servers",
    "tests.fixtures.oauth",
    "tests.fixtures.lives",
    "tests.fixtures.streams",
]


def pytest_configure(config):
    # Pages and messages are checked in Chinese and English: a fresh clone has no .mo files yet.
    # Django may have read the catalogs already (loading the apps): it reads them again, as
    # its autoreloader has it do when a .mo file changes.
    written = catalogs_compile(locale_dirs=[Path(__file__).resolve().parent / "locale"])
    if written:
        translation_file_changed(sender=None, file_path=written[0])


def pytest_collection_modifyitems(config, items):
    # `make test-quick` (-m "not e2e") must start no browser and no server process.
    for item in items:
        outside = {"chromium", "daphne_server"} & set(getattr(item, "fixturenames", ()))
        if outside and not item.get_closest_marker("e2e"):
            raise pytest.UsageError(f"{item.nodeid} runs a browser or a Daphne subprocess: mark it e2e")


@pytest.fixture(autouse=True)
def fresh_channel_layer():
    """A channel layer of the test's own: a Redis layer's connections and receive loop belong
    to the event loop that first used them, and every async test runs its own loop. (Redis
    itself is not flushed: the browser tests' server keeps its hub in the group there.)"""
    from channels.layers import channel_layers

    from miniapp.realtime.hub import hub

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()
    hub.sockets.clear()  # sockets a test left open belong to its finished event loop


@pytest.fixture(autouse=True)
def tap_desk_closed():
    """The tap desk's commit thread ends with each test, its database connection closed (a
    test database is dropped at the end: no connection may be left open to it)."""
    yield
    from miniapp.lives.taps import desk

    desk.close()
