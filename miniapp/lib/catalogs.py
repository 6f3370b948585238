"""Compiled translation catalogs (.mo) from the .po files, in pure Python.

Django's `compilemessages` runs GNU gettext's `msgfmt`; this needs only polib, so a fresh
clone with Python alone can serve and test in Chinese. Like msgfmt, it leaves out fuzzy
and untranslated entries. `make run`, `make dev` and `make test` run it, and so does
pytest at start-up; `make messages` (for translators) still uses gettext.

    python -m miniapp.lib.catalogs [LOCALE_DIR ...]    # default: ./locale
"""

import os
import sys
import tempfile
from pathlib import Path

import polib


def catalogs_compile(*, locale_dirs: list[Path]) -> list[Path]:
    """Write each `<dir>/<lang>/LC_MESSAGES/<domain>.po` beside it as `.mo`, when the `.mo`
    is missing or differs; the `.mo` files written."""
    written = []
    for locale_dir in locale_dirs:
        for po_path in sorted(Path(locale_dir).glob("*/LC_MESSAGES/*.po")):
            mo_path = po_path.with_suffix(".mo")
            compiled = polib.pofile(str(po_path)).to_binary()
            if not mo_path.exists() or mo_path.read_bytes() != compiled:
                _write_atomically(mo_path, compiled)
                written.append(mo_path)
    return written


def _write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` in one step: a server or a test reading it never sees half a file."""
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".", suffix=".mo", delete=False) as handle:
        handle.write(data)
    os.chmod(handle.name, 0o644)
    os.replace(handle.name, path)


if __name__ == "__main__":
    dirs = [Path(arg) for arg in sys.argv[1:]] or [Path(__file__).resolve().parents[2] / "locale"]
    for path in catalogs_compile(locale_dirs=dirs):
        print(f"compiled {path}")
