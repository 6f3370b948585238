"""The production settings pass Django's deployment checks, with nothing silenced."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "miniapp.settings",
    "DEBUG": "0",
    "HTTPS": "1",
    "TRUST_X_FORWARDED_PROTO": "1",
    "SECRET_KEY": secrets.token_urlsafe(60),
    "ALLOWED_HOSTS": "miniapp.example.com",
    "SITE_URL": "https://miniapp.example.com",
}


def manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    env = {key: value for key, value in env.items() if key != "DJANGO_ALLOW_ASYNC_UNSAFE"}  # the browser tests' own
    return subprocess.run(  # noqa: S603  (our own manage.py)
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_check_deploy_is_clean_with_the_production_settings(tmp_path):
    env = {**os.environ, **PRODUCTION, "VAR_DIR": str(tmp_path)}
    done = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_https_makes_cookies_secure_and_sends_hsts(tmp_path):
    env = {**os.environ, **PRODUCTION, "VAR_DIR": str(tmp_path)}
    code = (
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, "
        "s.SECURE_PROXY_SSL_HEADER)"
    )
    done = manage("shell", "-c", code, env=env)
    assert done.stdout.split("\n")[-2] == "True True True 31536000 ('HTTP_X_FORWARDED_PROTO', 'https')", done.stderr
