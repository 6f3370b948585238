"""Daphne: its periodic walks over every connection, spread out.

Every 2 s Daphne's `Server.timeout_checker` walks all of a worker's connections in one reactor
callback: each one's timeouts, and a WebSocket's keep-alive ping once 20 s have passed since
its last. Sockets that opened together fall due together, so with 5,000 viewers in a live room
that one callback took 6 to 28 ms (bench/live_room.py, traced), and every request and frame of
the worker waited behind it: a tap request's p99 is made of such waits. Here the same walk is
cut in SLICES: a twentieth of the connections every 0.1 s. Each connection is still checked about
every 2 s, and a socket's ping still goes once its interval has passed (within 2 s, as before).

Every second `Server.application_checker` walks them all too (reaping the applications that
ended, and the connections closed with them): 4 to 9 ms a second with 5,000 viewers, traced.
It runs the same way, a twentieth every 0.05 s, each slice through Daphne's own function.
"""

from daphne import server

PERIOD = 2.0  # seconds: Daphne's, for timeouts
APPLICATION_PERIOD = 1.0  # seconds: Daphne's, for ended applications
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


class _Connections:
    """Some of a server's `connections`, as Daphne's `application_checker` reads and changes them."""

    def __init__(self, connections: dict, protocols: list):
        self.all, self.protocols = connections, protocols

    def items(self) -> list:
        return [(protocol, self.all[protocol]) for protocol in self.protocols if protocol in self.all]

    def __getitem__(self, protocol):
        return self.all[protocol]

    def __delitem__(self, protocol) -> None:
        del self.all[protocol]


class _Slice:
    """A server as its `application_checker` sees it, holding a slice of its connections. The
    call after it that Daphne's function schedules does nothing: ours schedules the next slice."""

    def __init__(self, daphne: server.Server, protocols: list):
        self.daphne = daphne
        self.connections = _Connections(daphne.connections, protocols)

    def __getattr__(self, name):
        return getattr(self.daphne, name)

    def application_checker(self) -> None:
        pass


_daphne_application_checker = server.Server.application_checker


def application_checker(self: server.Server) -> None:
    """Daphne's `application_checker`, for the next slice of the connections."""
    walk = getattr(self, "_application_walk", None)
    if walk is None or not walk.left:
        walk = self._application_walk = _Walk(self.connections)
    _daphne_application_checker(_Slice(self, walk.next_slice()))
    server.reactor.callLater(APPLICATION_PERIOD / SLICES, self.application_checker)


def spread_daphne_checks() -> None:
    """Make Daphne's server walk its connections a slice at a time (its own `run` schedules
    the first calls)."""
    server.Server.timeout_checker = timeout_checker
    server.Server.application_checker = application_checker
