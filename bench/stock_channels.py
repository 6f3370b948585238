"""A minimal stock Channels app, the comparison for miniapp's hub: `daphne bench.stock_channels:application`.

What the Channels tutorial would write: every socket is an AsyncJsonWebsocketConsumer that joins one group
on connect (its own channel-layer channel, as Channels opens for every consumer), and a like is ONE
`group_send` to that group, made by a tiny HTTP endpoint (POST any path, the event as JSON). So each like
costs, per socket, a channel-layer message, a receive, the thread hop of `aclose_old_connections` and a
dispatch to the handler, which encodes and sends the frame.

The layer comes from the environment: STOCK_LAYER=memory (InMemoryChannelLayer), pubsub
(channels_redis RedisPubSubChannelLayer) or core (channels_redis RedisChannelLayer), the latter two on
STOCK_REDIS_URL. The process takes the same GC settings as miniapp/asgi.py, so the comparison is of the
fan-out path, not of the collector. Nothing here touches miniapp.
"""

import gc
import json
import os

import django
from django.conf import settings

LAYERS = {
    "memory": {"BACKEND": "channels.layers.InMemoryChannelLayer"},
    "pubsub": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer"},
    "core": {"BACKEND": "channels_redis.core.RedisChannelLayer"},
}
GROUP = "likes"

if not settings.configured:
    layer = dict(LAYERS[os.environ.get("STOCK_LAYER", "memory")])
    if layer["BACKEND"].startswith("channels_redis"):
        # As miniapp's settings: redis-py 8 gives up a read after 5 s, as long as the core layer's BZPOPMIN
        # waits, and a consumer whose receive times out dies (its socket gets nothing more).
        host = {"address": os.environ["STOCK_REDIS_URL"], "socket_timeout": 15, "socket_keepalive": True}
        layer["CONFIG"] = {"hosts": [host]}
    settings.configure(
        DEBUG=False,
        SECRET_KEY="stock-channels-benchmark",  # signs nothing: no sessions, no auth
        INSTALLED_APPS=["channels"],
        # A database as every Django app has; consumers close its old connections before each handler.
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        CHANNEL_LAYERS={"default": layer},
    )
    django.setup()

from channels.generic.websocket import AsyncJsonWebsocketConsumer  # noqa: E402
from channels.layers import get_channel_layer  # noqa: E402
from channels.routing import ProtocolTypeRouter  # noqa: E402


class LikeConsumer(AsyncJsonWebsocketConsumer):
    groups = [GROUP]  # joined by Channels before connect()

    async def connect(self):
        await self.accept()
        await self.send_json({"type": "hello"})

    async def like_event(self, message):
        await self.send_json(message["event"])


async def trigger(scope, receive, send):
    """POST an event: one group_send to every socket."""
    body, more = b"", True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    await get_channel_layer().group_send(GROUP, {"type": "like.event", "event": json.loads(body)})
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b'{"ok": true}'})


application = ProtocolTypeRouter({"http": trigger, "websocket": LikeConsumer.as_asgi()})

# The collector set as miniapp's asgi.py sets it, so that neither pays for it more.
gc.collect()
gc.freeze()
gc.set_threshold(2_000, 10, 100_000)
