"""/healthz answers 200 when the database and the channel layer work, 503 naming what failed."""

import asyncio
import socket
import threading

import pytest
from channels.layers import channel_layers
from django.db import connections

from miniapp import health


def get(client, url):
    """The test client calls this async view through async_to_sync, which refuses to run in a
    thread with a running event loop (the browser tests leave Playwright's in this one)."""
    answer = {}

    def call():
        try:
            answer["response"] = client.get(url)
        finally:
            connections.close_all()  # the view's query ran in this thread

    worker = threading.Thread(target=call)
    worker.start()
    worker.join()
    return answer["response"]


@pytest.mark.django_db
def test_it_is_ok_when_the_database_and_the_layer_answer(client):
    response = get(client, "/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "channel_layer": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_it_is_503_when_the_channel_layer_is_unreachable(client, settings):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [f"redis://127.0.0.1:{port}/0"]},
        }
    }
    channel_layers.backends.clear()
    try:
        response = get(client, "/healthz")
    finally:
        channel_layers.backends.clear()
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable" and body["database"] == "ok"
    assert body["channel_layer"].startswith("error")


def test_it_is_503_when_the_database_cannot_be_used(client):
    # Without the django_db mark pytest-django refuses every query: the check must say so.
    response = get(client, "/healthz")
    assert response.status_code == 503
    assert response.json()["database"].startswith("error")


def test_checks_reuse_one_channel(monkeypatch):
    """Each new channel is a subscription the pub/sub layer keeps, and it drops a channel whose
    read is cancelled: checks every few seconds, one of them timing out, keep one channel."""
    layer = channel_layers["default"]
    opened, real_new_channel, real_send = [], layer.new_channel, layer.send

    async def new_channel(*args, **kwargs):
        opened.append(await real_new_channel(*args, **kwargs))
        return opened[-1]

    async def send(channel, message):
        if not message.get("lost"):
            await real_send(channel, message)

    async def checks():
        results = [await health._check("channel_layer", health._round_trip) for _ in range(2)]
        monkeypatch.setattr(health, "TIMEOUT", 0.3)
        monkeypatch.setattr(layer, "send", lambda channel, message: send(channel, {**message, "lost": True}))
        results.append(await health._check("channel_layer", health._round_trip))  # its ping never comes
        monkeypatch.setattr(layer, "send", send)
        return results + [await health._check("channel_layer", health._round_trip) for _ in range(3)]

    monkeypatch.setattr(layer, "new_channel", new_channel)
    results = []
    runner = threading.Thread(target=lambda: results.append(asyncio.run(checks())))  # see get()
    runner.start()
    runner.join()
    assert results == [["ok", "ok", "error: TimeoutError", "ok", "ok", "ok"]]
    assert len(opened) == 1
