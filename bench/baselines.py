"""The baselines miniapp is measured against, as systems for bench/fanout.py's `measure`.

- The floor: the same N sockets on a minimal `websockets` server (`python -m bench.baselines PORT`), whose
  control socket broadcasts each trigger to all of them (websockets.broadcast).
- `Trigger`: events POSTed to the stock Channels app of bench/stock_channels.py (bench/realtime.py runs it).
"""

import asyncio
import json
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from websockets.asyncio.client import connect
from websockets.asyncio.server import broadcast, serve

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import common  # noqa: E402
from bench.fanout import CLIENT, RATES, measure, now, run_client  # noqa: E402


class Floor:
    """Triggers over a control socket, each as big as a like event and numbered like one (seq)."""

    def __init__(self, uri: str, size: int):
        self.uri, self.size, self.sent, self.control = uri, size, 0, None

    async def fire(self, k: int) -> dict:
        self.control = self.control or await connect(f"{self.uri}/control", **CLIENT)
        self.sent += 1
        op = {"seq": self.sent, "ok": True, "t0": now()}
        text = json.dumps({"type": "floor", "seq": self.sent, "t0": op["t0"]})
        await self.control.send(text + " " * max(0, self.size - len(text)))
        op["done"] = now()
        return op

    def resolve(self, ops: list[dict]) -> None:
        pass  # a trigger's seq is known when it is sent

    async def close(self) -> None:
        if self.control:
            await self.control.close()


def run_floor(n: int, size: int, rates: list[float] = RATES, **options) -> dict:
    with common.temp_dir() as tmp:
        port = common.free_port()
        command = [common.PYTHON, "-m", "bench.baselines", str(port)]
        with common.started(command, dict(os.environ), tmp / "floor.log", port) as proc:
            uri = f"ws://127.0.0.1:{port}"
            floor = Floor(uri, size)
            targets = [(uri, "")] * n
            return run_client(measure(floor, "floor", [proc.pid], n, targets, "http://127.0.0.1", rates, **options))


async def serve_floor(port: int) -> None:
    """The floor server: a hello to every client; what the control socket sends goes to all of them."""
    clients = set()

    async def handler(ws) -> None:
        if ws.request.path == "/control":
            async for text in ws:
                broadcast(clients, text)
            return
        await ws.send('{"type": "hello"}')
        clients.add(ws)
        try:
            await ws.wait_closed()
        finally:
            clients.discard(ws)

    async with serve(handler, "127.0.0.1", port, compression=None, ping_interval=None):
        await asyncio.Future()


class Trigger:
    """Events POSTed to an HTTP endpoint (the stock Channels app's), each as big as a like event and numbered.
    Like the app's liker: `requests` in a few threads, one session each."""

    def __init__(self, url: str, size: int, threads: int = 6):
        self.url, self.size, self.sent = url, size, 0
        self.pool, self.local, self.sessions = ThreadPoolExecutor(threads), threading.local(), []

    def send(self, op: dict, body: bytes) -> dict:
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
            self.local.session.trust_env = False
            self.sessions.append(self.local.session)
        op["t0"] = now()
        try:
            op["ok"] = self.local.session.post(self.url, data=body, timeout=30).status_code == 200
        except requests.RequestException:
            op["ok"] = False
        op["done"] = now()
        return op

    async def fire(self, k: int) -> dict:
        self.sent += 1
        event = {"type": "like", "seq": self.sent, "actor": "user0001", "pad": ""}
        event["pad"] = "x" * max(0, self.size - len(json.dumps(event)))
        body = json.dumps(event).encode()
        return await asyncio.get_running_loop().run_in_executor(self.pool, self.send, {"seq": self.sent}, body)

    def resolve(self, ops: list[dict]) -> None:
        pass

    async def close(self) -> None:
        self.pool.shutdown()
        for session in self.sessions:
            session.close()


if __name__ == "__main__":
    asyncio.run(serve_floor(int(sys.argv[1])))
