"""`/healthz`: is this worker able to serve? The database and the channel layer, each
checked for real (a query; a message sent to and read back from a channel).

200 `{"status": "ok", ...}` or 503 naming what failed, for a load balancer or an
orchestrator to stop routing to the worker. No details beyond the kind of error.
"""

import asyncio
import logging
import secrets
import weakref

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

log = logging.getLogger(__name__)
TIMEOUT = 2  # seconds per check


def _query() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


class Probe:
    """The channel one event loop's checks use, one check at a time. Reused: with the
    pub/sub layer every new channel is a subscription kept for the life of the process,
    and a load balancer checking every few seconds would pile them up."""

    def __init__(self):
        self.lock = asyncio.Lock()
        self.channel: str | None = None


_probes: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Probe]" = weakref.WeakKeyDictionary()


async def _round_trip() -> None:
    layer = get_channel_layer()
    probe = _probes.setdefault(asyncio.get_running_loop(), Probe())
    async with probe.lock:
        try:
            if probe.channel is None:
                probe.channel = await layer.new_channel()  # the default prefix: see realtime.hub
            token = secrets.token_hex(8)
            await layer.send(probe.channel, {"type": "healthz.ping", "token": token})
            while (message := await layer.receive(probe.channel)).get("token") != token:
                if message.get("type") != "healthz.ping":
                    raise RuntimeError("the channel layer returned another message")
                # else: the ping of an earlier check that gave up waiting
        except BaseException:
            # A fresh channel next time: the pub/sub layer drops a channel whose read was
            # cancelled (the timeout), and a ping sent to it before it subscribes again is lost.
            probe.channel = None
            raise


async def _check(name: str, work) -> str:
    try:
        async with asyncio.timeout(TIMEOUT):
            await work()
    except Exception as exc:  # any failure means "do not send traffic here"
        log.warning("health check %s failed", name, exc_info=True)
        return f"error: {type(exc).__name__}"
    return "ok"


@never_cache
@require_safe
async def healthz(request):
    checks = {
        "database": await _check("database", sync_to_async(_query)),
        "channel_layer": await _check("channel_layer", _round_trip),
    }
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "unavailable", **checks}, status=200 if healthy else 503)
