"""Daphne: its periodic walk over every connection, spread out.

Every 2 s Daphne's `Server.timeout_checker` walks all of a worker's connections in one reactor
callback: each one's timeouts, and a WebSocket's keep-alive ping once 20 s have passed since
its last. Sockets that opened together fall due together, so with 5,000 viewers in a live room
that one callback took 6 to 28 ms (bench/live_room.py, traced), and every request and frame of
the worker waited behind it: a tap request's p99 is made of such waits. Here the same walk is
cut in SLICES: a twentieth of the connections every 0.1 s. Each connection is still checked about
every 2 s, and a socket's ping still goes once its interval has passed (within 2 s, as before).
"""

from daphne import server

PERIOD = 2.0  # seconds: Daphne's
SLICES = 20


class _Walk:
    """The connections of one round of checks, a slice taken at a time."""

    def __init__(self, connections):
        self.left = list(connections)
        self.size = max(1, -(-len(self.left) // SLICES))  # a round in SLICES calls

    def next_slice(self) -> list:
        taken, self.left = self.left[: self.size], self.left[self.size :]
        return taken


def timeout_checker(self: server.Server) -> None:
    """Daphne's `timeout_checker`, for the next slice of the connections."""
    walk = getattr(self, "_timeout_walk", None)
    if walk is None or not walk.left:
        walk = self._timeout_walk = _Walk(self.connections)
    for protocol in walk.next_slice():
        if protocol in self.connections:  # gone since the round began: nothing to check
            protocol.check_timeouts()
    server.reactor.callLater(PERIOD / SLICES, self.timeout_checker)


def spread_daphne_checks() -> None:
    """Make Daphne's server walk its connections a slice at a time (its own `run` schedules
    the first call)."""
    server.Server.timeout_checker = timeout_checker
