"""py-spy (a dev tool: requirements-dev.txt) recording a server, and the functions that took its time.

`record()` starts `py-spy record` on a process for a while: speedscope format, samples aggregated by
function, and `--gil`: only the thread holding the GIL is sampled, so what is counted is the interpreter's
busy time and no thread's waiting. `top()` reads the file back and ranks functions and packages by own time
(the samples in which that function was the innermost Python frame) and the fan-out's own steps (FOCUS) by
inclusive time. py-spy weighs each sample by its interval, so the total is the seconds the GIL was busy.
"""

import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RATE = 200  # samples a second
# Inclusive time is reported for the fan-out's own steps: Channels, channels_redis and miniapp's realtime
# code, the thread hop's far side (django.db.close_old_connections), Django's request handling (the like
# itself) and autobahn's log-argument formatting; not for the wrappers every consumer runs inside.
FOCUS = ("/channels/", "/channels_redis/", "/miniapp/realtime/", "/django/db/__init__.py",
         "/django/core/handlers/", "/autobahn/util.py")  # fmt: skip
WRAPPERS = {"ProtocolTypeRouter.__call__", "AsyncConsumer.as_asgi.<locals>.app", "AsyncConsumer.__call__",
            "await_many_dispatch", "Hub.listen", "BaseHandler.get_response_async"}  # fmt: skip


def executable() -> str | None:
    """py-spy next to this Python (the venv's), else on PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def record(pid: int, seconds: float, out: Path) -> subprocess.Popen:
    command = [executable() or "py-spy", "record", "--pid", str(pid), "--duration", str(round(seconds)),
               "--rate", str(RATE), "--gil", "--function", "--format", "speedscope", "--output", str(out)]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603


def package(path: str) -> str:
    """Where a frame's code lives: the installed package, the project folder or the stdlib module."""
    parts = Path(path).parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1]
    if path.startswith(str(ROOT)):
        return "/".join(Path(path).relative_to(ROOT).parts[:2])
    for marker in ("python3.11", "python3.12", "python3.13", "python3.14"):
        if marker in parts:
            rest = parts[parts.index(marker) + 1 :]
            return rest[0].removesuffix(".py") if rest else path
    return path


def top(path: Path, count: int = 10) -> dict:
    """The `count` functions and packages with the most own time, as a share of all samples."""
    if not path.exists():
        return {"busy_s": 0, "functions": [], "packages": [], "error": "py-spy wrote nothing"}
    data = json.loads(path.read_text())
    frames = data["shared"]["frames"]
    own: Counter = Counter()
    inclusive: Counter = Counter()
    focus = {
        i
        for i, frame in enumerate(frames)
        if any(part in frame.get("file", "") for part in FOCUS) and frame["name"] not in WRAPPERS
    }
    for profile in data["profiles"]:
        for stack, weight in zip(profile["samples"], profile["weights"], strict=True):
            if stack:
                own[stack[-1]] += weight
            for name in {frames[index]["name"] for index in focus.intersection(stack)}:
                inclusive[name] += weight  # by name: a function nested in itself counts once
    total = sum(own.values()) or 1e-9
    by_package: Counter = Counter()
    for index, weight in own.items():
        by_package[package(frames[index].get("file", ""))] += weight

    def where(frame: dict) -> str:
        file = frame.get("file", "")
        short = "/".join(Path(file).parts[-2:]) if file else "?"
        return f"{short}:{frame.get('line', '?')}"

    functions = [
        {"function": frames[i]["name"], "where": where(frames[i]), "own_pct": round(100 * w / total, 1)}
        for i, w in own.most_common(count)
    ]
    packages = [{"package": name, "own_pct": round(100 * w / total, 1)} for name, w in by_package.most_common(count)]
    fan_out = [{"function": f, "inclusive_pct": round(100 * w / total, 1)} for f, w in inclusive.most_common(count)]
    return {"busy_s": round(total, 2), "functions": functions, "packages": packages, "fan_out": fan_out}
