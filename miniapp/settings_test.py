"""Test settings: the real settings with a fast password hasher.

The channel layer is whatever the environment picks: in memory by default, Redis
when REDIS_URL is set, so CI runs the same suite on both.
"""

from miniapp.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Files tests write (e.g. seed_demo's moderator password) go apart from the developer's own.
VAR_DIR = VAR_DIR / "test"  # noqa: F405

# Every event the suite sends to a socket (the e2e tests' Daphne too) is checked against the
# catalogue in realtime.schema: a malformed one raises in the code that sent it.
REALTIME_CHECK_EVENTS = True

# Lives' sources run in the Daphne subprocesses the tests start (tests/fixtures/servers.py
# turns this on for them), not in the test process, whose tests drive `lives.runner` themselves.
LIVE_RUNNER = env_bool("LIVE_RUNNER", False)  # noqa: F405
