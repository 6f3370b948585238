"""Real parts that the fault tests break on purpose: a private Redis, and a TCP proxy
that can be pointed elsewhere, cut, or made to drop a connection at a given word."""

import contextlib
import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.fixtures.servers import free_port

BUFFER = 65536


def redis_binary() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server not found: .ci/run installs it (apt-get install redis-server)")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    return binary


def close(side: socket.socket) -> None:
    with contextlib.suppress(OSError):
        side.shutdown(socket.SHUT_RDWR)
    side.close()


class RedisServer:
    """A throwaway redis-server without persistence: a restart loses every key, as a
    crashed or restarted Redis without a disk does."""

    def __init__(self, folder: Path):
        self.binary = redis_binary()
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(64).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


class Proxy:
    """Forwards 127.0.0.1:port to `target` (a port). `target` may change at any time (new
    connections go there); `cut()` drops every open connection and refuses new ones until
    `restore()`; `drop_on(word)` drops the connection whose client sends `word` next,
    before the server sees it."""

    def __init__(self, target: int):
        self.target = target
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.refusing = False
        self.trap: bytes | None = None
        self.sprung = threading.Event()
        self.connections: list[tuple[socket.socket, socket.socket]] = []
        self.routed: list[int] = []  # the target port of each connection made
        self.lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            if self.refusing:
                client.close()
                continue
            try:
                server = socket.create_connection(("127.0.0.1", self.target), timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self.lock:
                self.connections.append((client, server))
                self.routed.append(self.target)
            threading.Thread(target=self.pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self.pump, args=(server, client, False), daemon=True).start()

    def pump(self, source: socket.socket, sink: socket.socket, upstream: bool) -> None:
        try:
            while data := source.recv(BUFFER):
                if upstream and self.trap is not None and self.trap in data:
                    self.trap = None
                    self.sprung.set()
                    break
                sink.sendall(data)
        except OSError:
            pass
        for side in (source, sink):
            close(side)

    def drop_on(self, word: bytes) -> None:
        self.sprung.clear()
        self.trap = word

    def cut(self) -> None:
        self.refusing = True
        with self.lock:
            connections, self.connections = self.connections, []
        for pair in connections:
            for side in pair:
                close(side)

    def restore(self) -> None:
        self.refusing = False

    def close(self) -> None:
        self.cut()
        self.listener.close()
