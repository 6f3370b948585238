"""miniapp's ASGI application with a memory probe, for `bench/soak.py --probe`: `daphne bench.soak_probe:application`.

tracemalloc traces every allocation made after the app is loaded. On SIGUSR1 the process, from its event loop
(between two callbacks, so no request is half done), writes a JSON report to $SOAK_PROBE_FILE:
- its VmRSS, and the collector's counts (`gc.get_count()`) before a full collection;
- how many objects that full collection found unreachable (cyclic garbage the collector had not got to yet),
  the types it freed (counts of `gc.get_objects()` before minus after), and for the commonest of them one
  reference cycle each (`cycles`: what keeps them from being freed as soon as they are let go);
- the live objects' types after it, and their change since the last report (what stays reachable);
- how long a full collection takes once there is no garbage (the pause the collector's full passes cost),
  and how many objects it tracks outside the ones asgi.py froze;
- tracemalloc's allocations that grew most since the last report, by the line that made them.
A report costs a full collection and a walk over every object: for finding a leak, not for the soak's figures.
"""

import gc
import json
import os
import signal
import threading
import time
import tracemalloc
from collections import Counter
from pathlib import Path

from miniapp.asgi import application  # noqa: F401  (what Daphne serves)

# Frames kept per allocation: more is slower and says more; 0 leaves tracemalloc off (the reports then cost
# nothing between them, and RSS is not inflated by its traces).
FRAMES = int(os.environ.get("SOAK_PROBE_FRAMES", "1"))
TOP = 25

_last: dict = {"types": Counter(), "snapshot": None, "n": 0}


def type_counts() -> Counter:
    return Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.get_objects())


def shortest_cycle(start, members: dict[int, object], limit: int = 12) -> list[str] | None:
    """The shortest chain of references from `start` back to itself through `members` (id -> object),
    as 'type.attribute' steps; None if there is none within `limit` steps."""

    def label(holder, held) -> str:
        name = type(holder).__qualname__
        if isinstance(holder, dict):
            key = next((k for k, v in holder.items() if v is held), None)
            return f"{name}[{key!r}]" if key is not None else name
        if isinstance(holder, list | tuple | set | frozenset):
            return name
        if type(holder).__name__ == "cell":
            return "cell"
        for attribute in ("__self__", "__func__", "f_locals", "gi_frame", "cr_frame", "__closure__", "__dict__"):
            if getattr(holder, attribute, None) is held:
                return f"{name}.{attribute}"
        return name

    paths = {id(start): [start]}
    frontier = [start]
    for _ in range(limit):
        following = []
        for obj in frontier:
            for ref in gc.get_referents(obj):
                if ref is start:
                    chain = paths[id(obj)] + [start]
                    return [label(a, b) for a, b in zip(chain, chain[1:], strict=False)] + [type(start).__qualname__]
                if id(ref) in members and id(ref) not in paths:
                    paths[id(ref)] = paths[id(obj)] + [ref]
                    following.append(ref)
        frontier = following
    return None


def cycles(kinds: int = 12, tries: int = 20) -> tuple[int, dict[str, list[str] | None]]:
    """A full collection, and for the most common non-builtin types among what it found unreachable, one
    reference cycle each (None: the ones tried only hang off another type's cycle). DEBUG_SAVEALL keeps the
    garbage in gc.garbage to be looked at; it is let go and collected again after."""
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        unreachable = gc.collect()
        garbage = list(gc.garbage)
        gc.garbage.clear()
    finally:
        gc.set_debug(0)
    members = {id(o): o for o in garbage}
    found = {}
    for kind, _ in Counter(type(o) for o in garbage if type(o).__module__ != "builtins").most_common(kinds):
        samples = [o for o in garbage if type(o) is kind][:tries]
        cycle = next(filter(None, (shortest_cycle(o, members) for o in samples)), None)
        found[f"{kind.__module__}.{kind.__qualname__}"] = cycle
    samples = garbage = members = None  # let go of the garbage before collecting it
    gc.collect()
    return unreachable, found


def full_collection_ms() -> float:
    """How long a full collection takes with no garbage left: the pause one costs the event loop."""
    started = time.perf_counter()
    gc.collect()
    return round((time.perf_counter() - started) * 1000, 1)


def rss_kb() -> int:
    status = Path("/proc/self/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1])


def report() -> None:
    rss_before, counts = rss_kb(), gc.get_count()
    before = type_counts()
    unreachable, found_cycles = cycles()
    collect_ms = full_collection_ms()
    after = type_counts()
    snapshot, grown = None, []
    if tracemalloc.is_tracing():
        snapshot = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
    if _last["snapshot"] is not None and snapshot is not None:
        for stat in snapshot.compare_to(_last["snapshot"], "traceback" if FRAMES > 1 else "lineno")[:TOP]:
            grown.append({"kb": round(stat.size_diff / 1024, 1), "count": stat.count_diff,
                          "where": [str(frame) for frame in stat.traceback]})  # fmt: skip
    _last["n"] += 1
    out = {
        "n": _last["n"],
        "rss_kb": rss_before,
        "rss_after_collect_kb": rss_kb(),
        "gc_count": counts,
        "unreachable": unreachable,
        "full_collection_ms": collect_ms,
        "tracked": len(gc.get_objects()),
        "garbage": len(gc.garbage),
        "freed_types": (before - after).most_common(TOP),
        "live_types": after.most_common(TOP),
        "live_types_grown": [(k, v) for k, v in (after - _last["types"]).most_common(TOP)],
        "traced_kb": round(tracemalloc.get_traced_memory()[0] / 1024),
        "grown": grown,
        "cycles": found_cycles,
        "threads": threading.active_count(),
    }
    _last["types"], _last["snapshot"] = after, snapshot
    path = Path(os.environ["SOAK_PROBE_FILE"])
    path.with_suffix(".tmp").write_text(json.dumps(out))
    path.with_suffix(".tmp").replace(path)  # the client never reads half a report


def on_signal(signum, frame) -> None:
    from twisted.internet import reactor  # Daphne's reactor, on its asyncio loop

    reactor.callFromThread(report)


if FRAMES:
    tracemalloc.start(FRAMES)
signal.signal(signal.SIGUSR1, on_signal)
