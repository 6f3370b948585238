import pytest

from miniapp.realtime import events


@pytest.fixture
def pushed(monkeypatch):
    """Every event published to the channel layer, as (recipients, event)."""
    sent = []
    monkeypatch.setattr(events, "publish", lambda *, recipients, event: sent.append((sorted(recipients), event)))
    return sent
