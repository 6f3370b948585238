"""End-to-end tests over real HTTP; their servers and browser are in tests/fixtures/servers.py."""

import os

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests
# make between browser steps are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
