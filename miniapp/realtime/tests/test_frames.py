"""realtime.frames against Daphne's and autobahn's own classes, on Twisted's in-memory transport.

The sockets' end-to-end tests (tests/test_*_e2e.py) run Daphne, so they go through this path too."""

import asyncio
import zlib
from functools import partial

import pytest
from autobahn.websocket.compress_deflate import PerMessageDeflate
from autobahn.websocket.protocol import WebSocketProtocol
from daphne.server import Server
from daphne.ws_protocol import WebSocketFactory
from twisted.internet.testing import StringTransport

from miniapp.realtime.frames import Message, writer


@pytest.fixture
def daphne():
    """A Daphne server's connection table and one open WebSocket connection of it."""
    server = Server(application=None, endpoints=["tcp:port=0"])
    server.connections = {}  # Server.run() makes it
    protocol = WebSocketFactory(server, server="Daphne").buildProtocol(None)
    transport = StringTransport()
    protocol.makeConnection(transport)
    protocol.state = WebSocketProtocol.STATE_OPEN  # as after the handshake
    server.connections[protocol] = {"connected": 0}
    yield server, protocol, transport
    protocol.state = WebSocketProtocol.STATE_CLOSED


def autobahn_frame(protocol, text: str) -> bytes:
    """What autobahn's own sendMessage writes for this text."""
    saved, protocol.transport = protocol.transport, StringTransport()
    try:
        protocol.sendMessage(text.encode())
        return protocol.transport.value()
    finally:
        protocol.transport = saved


@pytest.mark.parametrize("length", [0, 6, 125, 126, 65535, 65536])  # each of the frame's length encodings
def test_writes_the_frame_autobahn_would(daphne, length):
    server, protocol, transport = daphne
    write = writer(partial(server.handle_reply, protocol))
    text = ("好友点赞" * length)[:length]
    write(Message(text))
    assert transport.value() == autobahn_frame(protocol, text)


def test_one_message_is_framed_once_for_every_socket(daphne):
    message = Message('{"type": "activity", "seq": 1}')
    assert message.frame is message.frame


def test_nothing_is_written_to_a_closing_or_dropped_connection(daphne):
    server, protocol, transport = daphne
    write = writer(partial(server.handle_reply, protocol))
    protocol.state = WebSocketProtocol.STATE_CLOSING
    write(Message("late"))
    protocol.state = WebSocketProtocol.STATE_OPEN
    server.connections[protocol]["disconnected"] = 1
    write(Message("late"))
    del server.connections[protocol]
    write(Message("late"))
    assert transport.value() == b""


def test_a_compressed_connection_gets_a_compressed_frame(daphne):
    server, protocol, transport = daphne
    protocol._perMessageCompress = PerMessageDeflate(True, True, True, 15, 15, 8)
    writer(partial(server.handle_reply, protocol))(Message("好友动态 " * 20))
    data = transport.value()
    assert data[0] == 0x80 | 0x40 | 0x1  # final, RSV1 (compressed), text
    assert zlib.decompressobj(-15).decompress(data[2:] + b"\x00\x00\xff\xff").decode() == "好友动态 " * 20


def test_other_servers_send_through_asgi(daphne):
    server, protocol, _transport = daphne

    async def send(message):
        pass

    assert writer(send) is None
    assert writer(asyncio.Queue().put) is None  # what channels.testing hands an application
    assert writer(partial(server.log_action, protocol)) is None
