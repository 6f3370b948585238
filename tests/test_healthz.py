"""/healthz answers 200 when the database and the channel layer work, 503 naming what failed."""

import socket
import threading

import pytest
from channels.layers import channel_layers


def get(client, url):
    """The test client calls this async view through async_to_sync, which refuses to run in a
    thread with a running event loop (the browser tests leave Playwright's in this one)."""
    answer = {}
    worker = threading.Thread(target=lambda: answer.update(response=client.get(url)))
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
