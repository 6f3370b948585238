"""End-to-end fixtures: a real Daphne server on the test database, and Debian Chromium.

The server is a separate process, so these tests use `transactional_db`: what a test
writes is committed and the server sees it.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.db import connection

from conftest import point_app_at

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests
# make between browser steps are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db["USER"] or ""
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Server:
    def __init__(self, url: str, process: subprocess.Popen, log: Path):
        self.url = url
        self.process = process
        self.log = log


def start_server(
    *, media_root: Path, log: Path, extra_env: dict | None = None, application: str = "miniapp.asgi:application"
) -> Server:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "miniapp.settings_test",
        "DATABASE_URL": _database_url(),
        "SITE_URL": url,
        "MEDIA_ROOT": str(media_root),
        **(extra_env or {}),
    }
    handle = open(log, "wb")  # noqa: SIM115  (kept open for the server's lifetime)
    process = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), application],
        cwd=ROOT,
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"daphne exited: {log.read_text()[-2000:]}")
        try:
            requests.get(f"{url}/mockwx/.well-known/openid-configuration", timeout=5)
            return Server(url, process, log)
        except (requests.ConnectionError, requests.Timeout):  # not listening yet, or still warming up
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"daphne did not start: {log.read_text()[-2000:]}")


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def daphne_server(django_db_setup, django_db_blocker, media_dir, tmp_path_factory):
    """The app served by Daphne (HTTP and WebSockets) on the test database."""
    server = start_server(media_root=media_dir, log=tmp_path_factory.mktemp("logs") / "daphne.log")
    yield server
    stop_server(server)


@pytest.fixture
def site(daphne_server, transactional_db, settings, identities, media_dir):
    """The running app with the demo identities and the app's client registered for its URL."""
    settings.MEDIA_ROOT = media_dir
    point_app_at(settings, daphne_server.url)
    return daphne_server.url


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"Chromium not found at {CHROMIUM}: .ci/run installs it (apt-get install chromium)")
        pytest.skip("Chromium is not installed (apt-get install chromium fonts-noto-cjk)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        browser.devices = playwright.devices
        yield browser
        browser.close()


@pytest.fixture
def phone(chromium):
    """A new iPhone 13-sized browser context; call it again for a second person."""
    contexts = []

    def open_context(locale: str = "zh-CN"):
        # bypass_csp: Playwright's wait_for_function evaluates its predicate from a string, which the
        # app's Content-Security-Policy forbids. tests/test_csp_e2e.py runs pages with the policy on.
        context = chromium.new_context(**chromium.devices["iPhone 13"], locale=locale, bypass_csp=True)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context

    yield open_context
    for context in contexts:
        context.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def with_csrf(session: requests.Session) -> requests.Session:
    """Send the CSRF header the app's own scripts send, with the session's CSRF cookie
    (made here if the session has none yet)."""
    from django.middleware.csrf import _get_new_csrf_string

    token = next((cookie.value for cookie in session.cookies if cookie.name == "csrftoken"), None)
    if token is None:
        token = _get_new_csrf_string()
        session.cookies.set("csrftoken", token)
    session.headers["X-CSRFToken"] = token
    return session


def api_session(user) -> requests.Session:
    """A browser-like session for `user` on any of the test servers: its session cookie,
    and a CSRF cookie with the matching header."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    session = requests.Session()
    session.cookies.set("sessionid", client.cookies["sessionid"].value)
    return with_csrf(session)


def signed_in_page(context, base_url: str, nickname: str, next_url: str = "/"):
    page = context.new_page()
    page.goto(f"{base_url}/login/?login_hint={nickname}&next={next_url}")
    page.wait_for_url(f"{base_url}{next_url}")
    return page


def swipe_up(page, *, x: int = 190, start_y: int = 500, distance: int = 400) -> None:
    """A finger swipe from `start_y` upwards, as touch events the browser scrolls with."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": start_y}]})
    steps = 10
    for step in range(1, steps + 1):
        point = {"x": x, "y": start_y - distance * step // steps}
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
        page.wait_for_timeout(16)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()
