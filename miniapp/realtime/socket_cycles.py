"""Workarounds for two upstream reference cycles that keep every closed WebSocket connection in memory.

Python frees an object as soon as nothing refers to it, except objects in a reference cycle: those wait for
the cyclic collector. Two cycles in the server stack catch every WebSocket connection:

1. autobahn resolves a connection's `is_closed` Deferred with the connection itself
   (autobahn/websocket/protocol.py, `txaio.resolve(self.is_closed, self)` in `dropConnection` and
   `_connectionLost`; autobahn 26.11.1). The protocol holds the Deferred, the fired Deferred holds the
   protocol: Daphne's protocol with its Twisted transport, handshake request, headers and autobahn's state.
2. Daphne upgrades a connection by handing its transport to the WebSocket protocol, and leaves the HTTP
   request that asked for the upgrade in its HTTP channel's queue (daphne/http_protocol.py,
   `WebRequest.process`; Daphne 4.2.3): `channel.requests` holds the request, `request.channel` the channel.
   The channel stays the transport's producer (its flow control) until the connection closes.

A connection that lives for a while reaches the collector's oldest generation, and with asgi.py's thresholds
that generation is rarely collected: a Daphne serving reconnecting phones grew with every reconnect, without
end (bench/soak.py; bench/RESULTS.md). django/daphne#373 reports that growth upstream.

`FreeClosedSockets` breaks both when a socket opens: it gives `is_closed` a first callback that replaces the
protocol with None as the Deferred fires (nothing in Daphne, Channels or miniapp reads that result), and takes
the upgraded request out of its channel's queue (the channel never reads another request on this
connection, and Daphne has already marked that request disconnected). Reference counting then frees the
connection within a second of its close, when Daphne's checker lets go of it.

Remove this module and its line in asgi.py once autobahn and Daphne no longer make these cycles:
tests/test_socket_memory_e2e.py then passes without it.
"""

from functools import partial

try:
    from daphne.http_protocol import WebRequest
    from daphne.ws_protocol import WebSocketProtocol as DaphneSocket
    from twisted.internet.defer import Deferred
    from twisted.web.http import HTTPChannel
except ImportError:  # not under Daphne: nothing to work around
    DaphneSocket = None


def daphne_socket(send):
    """The Daphne connection behind an ASGI `send`, or None under another server. Daphne passes
    `partial(Server.handle_reply, protocol)`; realtime.frames relies on the same."""
    if DaphneSocket is None or not isinstance(send, partial) or len(send.args) != 1:
        return None
    return send.args[0] if isinstance(send.args[0], DaphneSocket) else None


def _forget(result) -> None:
    return None


def break_cycles(protocol) -> None:
    closed = getattr(protocol, "is_closed", None)
    if isinstance(closed, Deferred):
        closed.addCallback(_forget)  # 1: the fired Deferred keeps None, not the protocol
    channel = getattr(protocol.transport, "producer", None)  # the HTTP channel (plain TCP; under TLS, a wrapper)
    if isinstance(channel, HTTPChannel):
        # 2: the upgraded request is the one whose transport Daphne handed over.
        channel.requests[:] = [r for r in channel.requests if not (isinstance(r, WebRequest) and r.transport is None)]


class FreeClosedSockets:
    """ASGI middleware for WebSocket scopes: see the module's docstring."""

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        protocol = daphne_socket(send)
        if protocol is not None:
            break_cycles(protocol)
        return await self.inner(scope, receive, send)
