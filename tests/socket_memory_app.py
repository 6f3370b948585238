"""miniapp under Daphne with the cyclic collector off, and a count of its connection objects.

For tests/test_socket_memory_e2e.py: `daphne tests.socket_memory_app:application`. With the collector off
only reference counting frees anything, so a closed connection still counted here (once Daphne has let go of
it) is held by a reference cycle, which the collector of a production worker would reach late or never
(asgi.py's thresholds): what realtime.socket_cycles prevents. GET /test/connections/ answers the counts.
"""

import gc
import json

from daphne.http_protocol import WebRequest
from daphne.ws_protocol import WebSocketProtocol
from twisted.web.http import HTTPChannel

from miniapp.asgi import application as miniapp

gc.disable()  # after asgi.py's collect and freeze: nothing loaded so far is counted


def counts() -> dict[str, int]:
    found = {"sockets": 0, "upgraded_requests": 0, "http_channels": 0}
    for o in gc.get_objects():
        kind = type(o)  # not isinstance: it would evaluate lazy objects (a stale CSP nonce raises)
        if issubclass(kind, WebSocketProtocol):
            found["sockets"] += 1
        elif issubclass(kind, WebRequest) and o.transport is None:
            found["upgraded_requests"] += 1  # Daphne handed this request's transport to a WebSocket
        elif issubclass(kind, HTTPChannel):
            found["http_channels"] += 1
    return found


async def application(scope, receive, send):
    if scope["type"] == "http" and scope["path"] == "/test/connections/":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": json.dumps(counts()).encode()})
        return
    await miniapp(scope, receive, send)
