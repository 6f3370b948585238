"""Test settings: the real settings with a fast password hasher.

The channel layer stays in memory unless REDIS_URL is set, so CI can run the
same suite on PostgreSQL and Redis.
"""

from miniapp.settings import *  # noqa: F403
from miniapp.settings import REDIS_URL

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if not REDIS_URL:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
