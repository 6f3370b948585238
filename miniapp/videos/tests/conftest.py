from pathlib import Path

import pytest
from django.core.cache import cache

from miniapp.accounts.models import User


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Rate limits count in the cache: every test starts with none spent (uploads: 20 an hour)."""
    cache.clear()


@pytest.fixture
def media(settings, tmp_path) -> Path:
    """MEDIA_ROOT in the test's own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def author(db) -> User:
    return User.objects.create(username="alice")
