"""`/healthz`: is this worker able to serve? The database and the channel layer, each
checked for real (a query; a message sent to and read back from a fresh channel).

200 `{"status": "ok", ...}` or 503 naming what failed, for a load balancer or an
orchestrator to stop routing to the worker. No details beyond the kind of error.
"""

import asyncio
import logging

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


async def _round_trip() -> None:
    layer = get_channel_layer()
    channel = await layer.new_channel()  # the default prefix: see realtime.hub
    await layer.send(channel, {"type": "healthz.ping"})
    message = await layer.receive(channel)
    if message.get("type") != "healthz.ping":
        raise RuntimeError("the channel layer returned another message")


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
