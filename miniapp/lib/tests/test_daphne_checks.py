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


def test_the_app_makes_daphne_walk_a_slice_at_a_time():
    import miniapp.asgi  # noqa: F401 (it sets this up as it loads)

    assert server.Server.timeout_checker is daphne_checks.timeout_checker
