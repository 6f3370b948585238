"""One event to many sockets: frame it once, write the same bytes to each.

Through ASGI, every pushed event costs each socket a walk down Channels' `send`, Daphne's
`handle_reply` (a coroutine), and autobahn's `sendMessage`, `sendFrame` and `sendData`, which
format their debug-log arguments on every call even with that log off. py-spy
(`bench/realtime.py --profile`) put that walk at most of the server's time per delivery
(bench/RESULTS.md). A like's event is the same bytes for every friend, so the hub frames it once
(autobahn's `PreparedMessage`, made for broadcasts) and each socket pays only for the write
to its connection, the one step that cannot be shared.

That write goes under the ASGI interface, so it is taken only where it is known to be
right: Daphne hands an application `send = functools.partial(Server.handle_reply,
protocol)`, and `writer(send)` recognises exactly that. Its writer makes the checks Daphne
and autobahn make before a send: the connection known to the server and open; nothing
queued ahead, no compression, fragmentation or size limit in play (otherwise autobahn's
own `sendMessage`); plain TCP for the immediate send (under TLS, the encrypting transport's
`write`). Under any other server (uvicorn, the tests' `ApplicationCommunicator`) `writer`
returns None and the consumer sends through ASGI as before. Which of the two a process
uses is logged once.
"""

import logging
from collections.abc import Callable
from functools import partial

try:
    from autobahn.websocket.protocol import PreparedMessage, WebSocketProtocol
    from daphne.server import Server
    from daphne.ws_protocol import WebSocketProtocol as DaphneSocket
    from twisted.internet.tcp import Server as TCPConnection
except ImportError:  # Daphne is not installed: every socket sends through ASGI
    Server = None

log = logging.getLogger(__name__)


class Message:
    """One event's text, and its WebSocket frame, built the first time a socket needs it."""

    __slots__ = ("text", "_frame")

    def __init__(self, text: str):
        self.text = text
        self._frame = None

    @property
    def frame(self) -> "PreparedMessage":
        if self._frame is None:
            # A server's frames are not masked; doNotCompress=False keeps the payload for a
            # socket that negotiated compression (Daphne does not offer it).
            self._frame = PreparedMessage(self.text.encode(), False, False, False)
        return self._frame


# What the direct path reads of autobahn's protocol and of Twisted's TCP connection, some of
# it private. Should a release rename any of it, sockets send through ASGI again (and the
# log says so) rather than fail.
PROTOCOL_NEEDS = (
    "state", "transport", "send_queue", "_perMessageCompress", "autoFragmentSize", "maxMessagePayloadSize",
    "logOctets", "trackedTimings", "sendMessage",
)  # fmt: skip
TRANSPORT_NEEDS = (
    "TLS", "connected", "disconnecting", "_writeDisconnected", "_tempDataBuffer", "dataBuffer", "offset",
    "writeSomeData",
)  # fmt: skip

_reported = False


def writer(send) -> Callable[[Message], None] | None:
    """A function that writes a `Message` straight to the connection behind this ASGI
    `send`, or None when `send` is not Daphne's."""
    write = _writer(send)
    global _reported
    if not _reported:
        _reported = True
        if write is not None:
            log.info("pushed events are written straight to Daphne's connections (realtime.frames)")
        else:
            log.info("pushed events go through ASGI send: not Daphne, or not a Daphne this code knows")
    return write


def _writer(send) -> Callable[[Message], None] | None:
    if Server is None or not isinstance(send, partial) or send.keywords or len(send.args) != 1:
        return None
    server = getattr(send.func, "__self__", None)
    protocol = send.args[0]
    if getattr(send.func, "__func__", None) is not Server.handle_reply or not isinstance(protocol, DaphneSocket):
        return None
    if not all(hasattr(protocol, name) for name in PROTOCOL_NEEDS):
        return None
    transport = protocol.transport
    # Plain TCP only: under TLS the protocol's transport encrypts, and is written to as usual.
    direct = (
        type(transport) is TCPConnection
        and all(hasattr(transport, name) for name in TRANSPORT_NEEDS)
        and not transport.TLS
    )

    def write(message: Message) -> None:
        details = server.connections.get(protocol)
        if details is None or details.get("disconnected") or protocol.state != WebSocketProtocol.STATE_OPEN:
            return  # closing or gone: Daphne drops a send then too
        frame = message.frame
        if (
            protocol._perMessageCompress is None
            and not protocol.send_queue
            and not (protocol.autoFragmentSize or protocol.logOctets or protocol.trackedTimings)
            and not 0 < protocol.maxMessagePayloadSize < len(frame.payload)
        ):
            if direct:
                send_now(transport, frame.payloadHybi)
            else:
                transport.write(frame.payloadHybi)
        else:  # compression, fragments, a size limit...: autobahn's own send, as through ASGI
            protocol.sendMessage(frame.payload, False)

    return write


def send_now(transport: "TCPConnection", data: bytes) -> None:
    """`transport.write(data)`, but sent at once when Twisted has nothing waiting to go out.

    Twisted's `write` only buffers: the reactor watches the socket for writability and sends
    on its next turn, which costs two `epoll_ctl` calls and a callback per socket and write.
    With nothing buffered ahead, sending now is what that turn would do (asyncio's own
    transports do the same). What the socket does not take goes to Twisted's buffer."""
    if (
        transport.connected
        and not (transport.disconnecting or transport._writeDisconnected or transport._tempDataBuffer)
        and transport.offset == len(transport.dataBuffer)
    ):
        sent = transport.writeSomeData(data)
        if isinstance(sent, int):  # else the connection is lost: Twisted's own write notices
            data = data[sent:]
    if data:
        transport.write(data)
