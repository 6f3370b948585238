"""Daphne's walk over its connections, a slice at a time (`lib.daphne_checks`)."""

from daphne import server

from miniapp.lib import daphne_checks


class Protocol:
    def __init__(self):
        self.checked = 0

    def check_timeouts(self):
        self.checked += 1


class Server:
    timeout_checker = daphne_checks.timeout_checker

    def __init__(self, n: int):
        self.connections = {Protocol(): {} for _ in range(n)}


def test_every_connection_is_checked_once_a_round_a_slice_a_call(monkeypatch):
    later = []
    monkeypatch.setattr(server.reactor, "callLater", lambda delay, call: later.append(delay))
    daphne = Server(100)
    protocols = list(daphne.connections)
    daphne.timeout_checker()
    assert sum(p.checked for p in protocols) == 100 // daphne_checks.SLICES  # a slice a call
    assert later == [daphne_checks.PERIOD / daphne_checks.SLICES]  # the next slice, scheduled
    gone = protocols[-1]
    del daphne.connections[gone]  # closed during the round: not checked
    newcomer = Protocol()
    daphne.connections[newcomer] = {}  # opened during the round: checked from the next
    for _ in range(daphne_checks.SLICES - 1):
        daphne.timeout_checker()
    assert [p.checked for p in protocols[:-1]] == [1] * 99 and gone.checked == 0 and newcomer.checked == 0
    for _ in range(daphne_checks.SLICES):
        daphne.timeout_checker()
    assert {p.checked for p in protocols[:-1]} == {2} and newcomer.checked == 1


class Application:
    """An application instance as Daphne holds it (an asyncio future)."""

    def __init__(self, done: bool):
        self.is_done = done

    def done(self) -> bool:
        return self.is_done

    def exception(self):
        return None


class Daphne(server.Server):
    def __init__(self, connections: dict):  # Daphne's own methods; no reactor, no ports
        self.connections = connections
        self.application_close_timeout = 10


def test_ended_applications_are_reaped_a_slice_a_call_by_daphnes_own_check(monkeypatch):
    later = []
    monkeypatch.setattr(server.reactor, "callLater", lambda delay, call: later.append((delay, call)))
    closed = {object(): {"application_instance": Application(True), "disconnected": 1.0} for _ in range(20)}
    ended = {object(): {"application_instance": Application(True)} for _ in range(20)}  # still connected
    running = {object(): {"application_instance": Application(False)} for _ in range(20)}
    daphne = Daphne({**closed, **ended, **running})
    daphne_checks.application_checker(daphne)
    assert len(daphne.connections) == 60 - 3  # a slice (3 of 60, closed ones): reaped
    assert later[-1] == (daphne_checks.APPLICATION_PERIOD / daphne_checks.SLICES, daphne.application_checker)
    for _ in range(daphne_checks.SLICES - 1):
        daphne_checks.application_checker(daphne)
    assert set(daphne.connections) == set(ended) | set(running)  # the closed ones reaped
    assert all("application_instance" not in daphne.connections[p] for p in ended)  # ended: reaped
    assert all("application_instance" in daphne.connections[p] for p in running)
    daphnes_own = [call for delay, call in later if delay == 1]  # what Daphne's function scheduled
    assert daphnes_own and all(call() is None for call in daphnes_own)  # does nothing


def test_the_app_makes_daphne_walk_a_slice_at_a_time():
    import miniapp.asgi  # noqa: F401 (it sets this up as it loads)

    assert server.Server.timeout_checker is daphne_checks.timeout_checker
    assert server.Server.application_checker is daphne_checks.application_checker
