"""Secrets for a fresh clone: generated once, kept out of the repository."""

import hmac
import secrets
import sys
from hashlib import sha256
from pathlib import Path


def dev_secret_key(path: Path) -> str:
    """Read the development SECRET_KEY from `path`, creating it on first use.

    The file lives under the ignored `var/` folder, so every clone gets its own
    key and none is ever committed.
    """
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    path.write_text(key)
    path.chmod(0o600)
    return key


def derived_secret(secret_key: str, purpose: str) -> str:
    """A stable secret for one purpose, derived from SECRET_KEY.

    The demo OAuth client uses it: `seed_demo` registers the client with this
    secret on the mock provider and the app signs in with the same value, so no
    client secret has to be written down anywhere.
    """
    return hmac.new(secret_key.encode(), purpose.encode(), sha256).hexdigest()


if __name__ == "__main__":
    # `make run` serves with DEBUG off, where settings want SECRET_KEY from the environment:
    # it passes this clone's own key, the one `make dev` (DEBUG on) reads from the same file.
    print(dev_secret_key(Path(sys.argv[1])))
