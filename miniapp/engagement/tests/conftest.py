import pytest
from django.core.cache import cache

from miniapp.realtime import events


@pytest.fixture
def pushed(monkeypatch):
    """Every event published to the channel layer, as (recipients, event)."""
    sent = []
    monkeypatch.setattr(events, "publish", lambda deliveries: sent.extend((sorted(r), e) for r, e in deliveries))
    return sent


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Rate limits count in the cache: every test starts with none spent."""
    cache.clear()
