"""Print which apps import which: `make graph`.

One line per ordered pair of apps with direct imports between them, split by kind of importer:
domain modules (models, services, selectors, ...) and interface modules (apis, views, admin,
consumers, commands, urls), which the layering rule lets import any app's domain modules. Then
the pairs that import each other both ways, counting domain modules only, and counting all.
Uses grimp, the import graph under import-linter (`make lint` checks the rule itself)."""

import itertools
import sys

import grimp

APPS = ["lib", "realtime", "accounts", "videos", "engagement", "moderation", "mockwx"]
INTERFACE = {"apis", "views", "admin", "consumers", "urls", "management"}


def app_and_kind(module: str) -> tuple[str, str] | None:
    parts = module.split(".")
    if len(parts) < 2 or parts[1] not in APPS or "tests" in parts or "migrations" in parts:
        return None
    return parts[1], "interface" if len(parts) > 2 and parts[2] in INTERFACE else "domain"


def main() -> None:
    graph = grimp.build_graph("miniapp")
    edges: dict[tuple[str, str], dict[str, set]] = {}
    for importer in graph.modules:
        source = app_and_kind(importer)
        if source is None:
            continue
        for imported in graph.find_modules_directly_imported_by(importer):
            target = app_and_kind(imported)
            if target is None or target[0] == source[0]:
                continue
            edges.setdefault((source[0], target[0]), {"domain": set(), "interface": set()})[source[1]].add(importer)
    for (source, target), kinds in sorted(edges.items(), key=lambda item: (APPS.index(item[0][0]), APPS.index(item[0][1]))):
        domain, interface = sorted(kinds["domain"]), sorted(kinds["interface"])
        print(f"{source:>10} -> {target:<10}  domain: {len(domain)}  interface: {len(interface)}")
        for module in domain:
            print(f"{'':>14}domain {module}")
    for label, kinds in (("domain modules", ("domain",)), ("all modules", ("domain", "interface"))):
        both = [
            f"{a}<->{b}"
            for a, b in itertools.combinations(APPS, 2)
            if any(edges.get((a, b), {}).get(k) for k in kinds) and any(edges.get((b, a), {}).get(k) for k in kinds)
        ]
        print(f"pairs importing both ways ({label}): {len(both)} {' '.join(both)}")


if __name__ == "__main__":
    sys.path.insert(0, ".")
    main()
