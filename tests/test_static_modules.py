"""The pages' scripts are ES modules: no globals between files, URLs from the server, and
imports that still resolve once `collectstatic` has hashed every name."""

import json
import re
from pathlib import Path

from django.conf import settings
from django.core.management import call_command

STATIC = Path(settings.BASE_DIR) / "static"
TEMPLATES = Path(settings.BASE_DIR) / "templates"
IMPORT = re.compile(r"""^(?:import|export)\s+(?:\{([^}]*)\}|\*\s+as\s+\w+)\s+from\s+"([^"]+)";""", re.M)
EXPORTED = r"^export\s+(?:async\s+)?(?:function|const|let|class)\s+{name}\b"


def scripts() -> list[Path]:
    return sorted(STATIC.rglob("*.js"))


def test_no_script_writes_a_url_of_the_app():
    """Paths come from the templates ({% url %} into data-url-* attributes), not from the scripts."""
    literal = re.compile(r"""["'`]/(?:api|v|login|logout|friends|groups|me|upload|jsi18n)/""")
    found = {str(path.relative_to(STATIC)): literal.findall(path.read_text()) for path in scripts()}
    assert {path: hits for path, hits in found.items() if hits} == {}


def test_no_script_shares_a_global():
    shared = re.compile(r"\bwindow\.\w+\s*=(?!=)|Object\.assign\(window\b|^\s*var\s", re.M)
    found = {str(path.relative_to(STATIC)): shared.findall(path.read_text()) for path in scripts()}
    assert {path: hits for path, hits in found.items() if hits} == {}


def test_every_page_script_is_a_module():
    """Django's translation catalogue is the one classic script: it defines `django`, which api.js reads."""
    tag = re.compile(r"<script\b[^>]*>")
    tags = [(path.name, found) for path in TEMPLATES.rglob("*.html") for found in tag.findall(path.read_text())]
    assert tags
    assert [
        (name, found)
        for name, found in tags
        if 'type="module"' not in found and "{% url 'javascript-catalog' %}" not in found
    ] == []


def test_every_import_names_what_its_module_exports():
    for path in scripts():
        for names, target in IMPORT.findall(path.read_text()):
            module = (path.parent / target).resolve()
            assert module.is_file(), f"{path.relative_to(STATIC)}: {target}"
            source = module.read_text()
            for name in filter(None, (part.strip() for part in names.split(","))):
                assert re.search(EXPORTED.format(name=name), source, re.M), f"{path.name}: {name} from {target}"


def imported_by(entry: str) -> set[str]:
    """Every module `entry` (a path under static/) imports, directly or not."""
    found, todo = set(), [STATIC / entry]
    while todo:
        path = todo.pop()
        for _, target in IMPORT.findall(path.read_text()):
            module = (path.parent / target).resolve()
            if module.relative_to(STATIC).as_posix() not in found:
                found.add(module.relative_to(STATIC).as_posix())
                todo.append(module)
    return found


def test_the_feed_preloads_every_module_its_scripts_import():
    """The first screen: the browser fetches them at once, not one import level after another."""
    page = (TEMPLATES / "videos/feed.html").read_text()
    entries = re.findall(r"""<script type="module" src="{% static '([^']+)' %}">""", page)
    preloaded = re.findall(r"""<link rel="modulepreload" href="{% static '([^']+)' %}">""", page)
    assert entries == ["videos/feed.js", "videos/share.js", "videos/comments.js"]
    assert sorted(preloaded) == sorted(set().union(*map(imported_by, entries)) - set(entries))


def test_collectstatic_points_every_import_at_a_hashed_name(tmp_path):
    """Production's storage hashes file names; a module must import its neighbours by their
    hashed names too, or a page would load one module under two names and run it twice."""
    from django.test import override_settings

    production = {"BACKEND": "miniapp.lib.staticfiles.ModuleManifestStaticFilesStorage"}
    with override_settings(
        STATIC_ROOT=tmp_path,
        STATICFILES_FINDERS=["django.contrib.staticfiles.finders.FileSystemFinder"],  # ours only: quick
        STORAGES={**settings.STORAGES, "staticfiles": production},
    ):
        call_command("collectstatic", interactive=False, verbosity=0)
    hashed = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    modules = [name for name in hashed if name.endswith(".js")]
    assert "miniapp/api.js" in modules and "videos/feed/likes.js" in modules
    for name in modules:
        built = tmp_path / hashed[name]
        for _, target in IMPORT.findall(built.read_text()):
            imported = (built.parent / target).resolve().relative_to(tmp_path).as_posix()
            assert imported in hashed.values(), f"{name} imports {target}, not a hashed name"


def test_only_the_pages_own_scripts_open_the_socket():
    """The tab bar's badge script runs before the page's script (the tab bar comes first in the
    page): had it called connect(), the socket would start from "now" before 好友动态 asked
    for the entries after the ones it shows. It only listens; toast.js or the page's script connects."""
    tabbar = (TEMPLATES / "miniapp/tabbar.html").read_text()
    assert "{% static 'engagement/tabbar.js' %}" in tabbar
    for module in {"engagement/tabbar.js"} | imported_by("engagement/tabbar.js"):
        if module != "realtime/socket.js":
            assert not re.search(r"\bconnect\(", (STATIC / module).read_text()), module
