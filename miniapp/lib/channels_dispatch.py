"""Channels' consumer dispatch, without its trip to tidy database connections.

Since Channels 4.2, `AsyncConsumer.dispatch` runs Django's `close_old_connections` before every
message it hands a consumer: a trip to asgiref's one thread-sensitive thread and back, two
turns of the event loop. That thread is where every consumer's database work runs, a live
room's reads among it, so each socket's connect, ping and channel-layer message queued
behind whatever ran there (a tap request did: 5,000 viewers' room ticks, bench/live_room.py).
Our consumers do their database work only through `database_sync_to_async`, which closes old
connections around each call itself, and use no async ORM method: the trip tidies nothing
they leave. A consumer that did use the async ORM must not take this mixin. (Channels'
`websocket_disconnect` makes the same trip once more as a socket ends; that one is left.)
"""

from channels.consumer import get_handler_name


class DispatchWithoutTidying:
    """Put first in a consumer's bases: `AsyncConsumer.dispatch` less its
    `aclose_old_connections` (see the module)."""

    async def dispatch(self, message):
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)
