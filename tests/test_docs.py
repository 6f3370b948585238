"""The documents that describe the code stay true to it.

ARCHITECTURE.md is a map: every file, folder, module and class attribute it names in backticks
(`miniapp/health.py`, `realtime/consumers.py`, `feed.js`, `engagement.services.like_create`,
`Hub.catch_up`) and every page it links to must exist, so a move or a rename that forgets the map
fails here. bench/RESULTS.md is what the runs in bench/results/ give (it is generated, never edited).
"""

import importlib
import re
from pathlib import Path

import pytest

from bench import results

ROOT = Path(__file__).resolve().parent.parent
MAP = ROOT / "ARCHITECTURE.md"
APPS = ("lib", "realtime", "accounts", "videos", "engagement", "moderation", "mockwx")
NOT_MODULES = {"miniapp.broadcast"}  # the channel-layer group's name, not a module


def spans() -> list[str]:
    """The inline code spans of ARCHITECTURE.md, fenced blocks left out."""
    text = re.sub(r"^```.*?^```", "", MAP.read_text(), flags=re.S | re.M)
    return re.findall(r"`([^`\n]+)`", text)


def is_path(span: str) -> bool:
    """A file or folder of the repository: has a slash or a file suffix; not a URL, a pattern, code."""
    if span.startswith(("/", "var/")) or any(c in span for c in " <>{}()*…=:?|"):
        return False  # a URL, a pattern, code, or made at run time (var/)
    return (
        "/" in span
        or span.startswith(".")
        or bool(re.fullmatch(r"\.?[\w-]+(\.[\w-]+)*\.(py|js|css|html|md|json|toml|txt)", span))
    )


def path_exists(span: str) -> bool:
    if span.startswith("."):
        return (ROOT / span).exists()
    if "/" in span:  # from the repository's root, or from miniapp/ as the map writes app paths
        return (ROOT / span).exists() or (ROOT / "miniapp" / span).exists()
    # A bare file name: at the root, or somewhere in the code the map is about.
    return (ROOT / span).exists() or any(
        next(ROOT.joinpath(top).rglob(span), None) for top in ("miniapp", "static", "templates", "bench", "tests")
    )


def is_module_path(span: str) -> bool:
    """`engagement.services.like_create`, `miniapp.lib.env`, `bench.common.write_results`."""
    head = span.split(".")[0]
    return bool(re.fullmatch(r"[A-Za-z_][\w.]*[A-Za-z_]", span)) and "." in span and head in (*APPS, "miniapp", "bench")


def resolves(span: str) -> bool:
    """Import the longest module prefix, then find the rest as attributes."""
    name = span if span.startswith(("miniapp.", "bench.")) else f"miniapp.{span}"
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            found = getattr(found, attribute, None)
            if found is None:
                return False
        return True
    return False


def class_attribute(span: str) -> tuple[str, str] | None:
    """`Hub.catch_up`, `User.session_version`: a class of miniapp's and one of its attributes."""
    found = re.fullmatch(r"([A-Z]\w*)\.([a-z_]\w*)", span)
    return (found[1], found[2]) if found else None


def class_has(name: str, attribute: str) -> bool:
    """Whether a class of that name, defined in one of miniapp's modules (tests and migrations aside), has it."""
    for source in ROOT.joinpath("miniapp").rglob("*.py"):
        if {"tests", "migrations"} & set(source.parts) or not re.search(rf"^class {name}\b", source.read_text(), re.M):
            continue
        module = importlib.import_module(".".join(source.relative_to(ROOT).with_suffix("").parts))
        if hasattr(getattr(module, name), attribute):
            return True
    return False


def test_the_checks_tell_a_wrong_name():
    assert not path_exists("miniapp/videos/nowhere.py") and not path_exists("nowhere.js")
    assert not resolves("engagement.services.like_nowhere") and not resolves("videos.nowhere")
    assert not class_has("Hub", "nowhere") and class_has("Hub", "catch_up")


def test_the_map_names_only_paths_that_exist():
    named = {span for span in spans() if is_path(span)}
    assert len(named) > 30, sorted(named)  # the parser still finds the map's paths
    assert sorted(span for span in named if not path_exists(span)) == []


def test_the_map_names_only_modules_that_exist():
    named = {span for span in spans() if is_module_path(span)} - NOT_MODULES
    assert len(named) > 30, sorted(named)
    assert sorted(span for span in named if not resolves(span)) == []


def test_the_map_names_only_class_attributes_that_exist():
    named = {found for span in spans() if (found := class_attribute(span))}
    assert len(named) > 5, sorted(named)
    assert sorted(f"{name}.{attribute}" for name, attribute in named if not class_has(name, attribute)) == []


@pytest.mark.parametrize("page", [MAP, ROOT / "README.md"], ids=lambda p: p.name)
def test_links_go_somewhere(page):
    links = re.findall(r"\]\(([^)#\s]+)", page.read_text())
    local = [link for link in links if not link.startswith(("http://", "https://", "mailto:"))]
    assert sorted(link for link in local if not (page.parent / link).exists()) == []


def test_results_page_is_what_the_runs_give():
    assert results.PAGE.read_text() == results.page(results.load()), "run `python -m bench.results`"


def test_every_run_says_when_where_and_how():
    for run in results.load():
        assert run["date"] and run["commit"] and run["command"], run["file"]
        assert run["machine"]["cores"], run["file"]
        assert run["tables"], f"{run['file']}: no table for bench/RESULTS.md"
