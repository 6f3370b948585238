import os

from django.apps import AppConfig
from django.conf import settings


class MockwxConfig(AppConfig):
    name = "miniapp.mockwx"
    verbose_name = "模拟微信开放平台 / Mock provider"

    def ready(self):
        if settings.MOCK_OAUTH_ENABLED:
            # Authlib refuses plain-http issuers other than loopback. The mock
            # provider is a development and test tool, served over http on
            # whatever host the app runs on, so let it through in mock mode only.
            os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")
