"""The whole suite's set-up: the shared fixtures (tests/fixtures), compiled translations,
and a channel layer of each test's own."""

from pathlib import Path

import pytest

from miniapp.lib.catalogs import catalogs_compile

pytest_plugins = [
    "tests.fixtures.personas",
    "tests.fixtures.sockets",
    "tests.fixtures.servers",
    "tests.fixtures.oauth",
]


def pytest_configure(config):
    # Pages and messages are checked in Chinese and English: a fresh clone has no .mo files yet.
    catalogs_compile(locale_dirs=[Path(__file__).resolve().parent / "locale"])


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
