"""`schema.is_ping`: the one frame every socket answers (activity, live room, comment sheet)."""

from miniapp.realtime.schema import is_ping


def test_a_ping_is_told_from_anything_else():
    assert is_ping('{"type": "ping"}')
    for other in ('{"type": "pong"}', '["ping"]', '"ping"', "ping", "", None, "{", "[" * 100_000 + "]" * 100_000):
        assert not is_ping(other), other[:20] if other else other
