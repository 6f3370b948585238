"""realtime.frames against Daphne's, autobahn's and Twisted's own classes: on Twisted's in-memory
transport, and on a real TCP connection on loopback.

The sockets' end-to-end tests (tests/test_*_e2e.py) run Daphne, so they go through this path too."""

import asyncio
import socket
import zlib
from functools import partial
from types import SimpleNamespace

import pytest
from autobahn.exception import PayloadExceededError
from autobahn.websocket.compress_deflate import PerMessageDeflate
from autobahn.websocket.protocol import WebSocketProtocol
from daphne.server import Server
from daphne.ws_protocol import WebSocketFactory
from twisted.internet import tcp
from twisted.internet.testing import MemoryReactor, StringTransport

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


def test_a_size_limit_is_enforced_as_autobahn_would(daphne):
    server, protocol, _transport = daphne
    protocol.maxMessagePayloadSize = 10
    with pytest.raises(PayloadExceededError):
        writer(partial(server.handle_reply, protocol))(Message("好友点赞了你的视频"))


def test_an_unknown_daphne_sends_through_asgi(daphne):
    server, protocol, _transport = daphne
    del protocol.send_queue  # as if a release had renamed it
    assert writer(partial(server.handle_reply, protocol)) is None


# On a real TCP connection (loopback), where frames are sent at once.


@pytest.fixture
def connection(daphne):
    """Daphne's protocol on a Twisted TCP connection whose reactor never runs (the test flushes by
    hand), and the client's end of it."""
    server, protocol, _transport = daphne
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        ours, peer = listener.accept()
    ours.setblocking(False)
    client.settimeout(1)
    reactor = MemoryReactor()
    transport = tcp.Server(ours, protocol, peer, None, 1, reactor)
    protocol.transport = transport  # as Daphne hands an upgraded connection over
    yield SimpleNamespace(
        write=writer(partial(server.handle_reply, protocol)), protocol=protocol, transport=transport,
        reactor=reactor, client=client,
    )  # fmt: skip
    client.close()
    ours.close()


def received(client: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        data += client.recv(size - len(data))
    return data


def test_a_frame_is_sent_at_once(connection):
    frame = autobahn_frame(connection.protocol, "赞")
    connection.write(Message("赞"))
    assert received(connection.client, len(frame)) == frame
    assert connection.reactor.getWriters() == []  # nothing left for the reactor to do


def test_a_frame_never_overtakes_what_twisted_still_holds(connection):
    connection.transport.write(b"earlier")  # e.g. a hello sent through ASGI, not yet flushed
    connection.write(Message("later"))
    connection.client.setblocking(False)
    with pytest.raises(BlockingIOError):
        connection.client.recv(100)  # nothing went ahead of "earlier"
    connection.transport.doWrite()
    connection.client.setblocking(True)
    frame = autobahn_frame(connection.protocol, "later")
    assert received(connection.client, 7 + len(frame)) == b"earlier" + frame


def test_what_the_socket_does_not_take_waits_in_twisteds_buffer(connection):
    text = "好友动态" * 200_000  # 2.4 MB: more than one send takes
    frame = autobahn_frame(connection.protocol, text)
    connection.write(Message(text))
    assert connection.reactor.getWriters() == [connection.transport]
    data = b""
    while len(data) < len(frame):
        connection.transport.doWrite()
        data += connection.client.recv(1 << 20)
    assert data == frame


def test_a_peer_gone_is_no_error(connection):
    connection.client.close()
    for _ in range(3):
        connection.write(Message("nobody reads this"))
