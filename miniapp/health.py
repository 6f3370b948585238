"""`/healthz`: is this worker able to serve? The database and the channel layer, each
checked for real (a query; a message sent to and read back from a channel).

200 `{"status": "ok", ...}` or 503 naming what failed, for a load balancer or an
orchestrator to stop routing to the worker. No details beyond the kind of error.
"""

import asyncio
import contextvars
import logging
import secrets
import weakref

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from miniapp.realtime.hub import stop_if_cancelled

log = logging.getLogger(__name__)
TIMEOUT = 2  # seconds per check


def _query() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


class Probe:
    """One event loop's channel for the layer check, made once and read by one task for
    good; each check waits for its own ping (by token), and a check that gives up cancels
    only that wait. With the pub/sub layer every new channel is a subscription kept for the
    life of the process, and a channel whose read is cancelled is dropped: a check every
    few seconds must neither make channels nor cancel reads."""

    def __init__(self):
        self.opening = asyncio.Lock()
        self.channel: str | None = None
        self.reader: asyncio.Task | None = None
        self.waiting: dict[str, asyncio.Future] = {}

    async def read(self, layer) -> None:
        while True:
            try:
                message = await layer.receive(self.channel)
            except Exception:  # the layer failed (Redis away): the checks say so meanwhile
                stop_if_cancelled()
                await asyncio.sleep(1)
                continue
            waiter = self.waiting.get(message.get("token"))
            if waiter is not None and not waiter.done():
                waiter.set_result(message)


_probes: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Probe]" = weakref.WeakKeyDictionary()


async def _round_trip() -> None:
    layer = get_channel_layer()
    loop = asyncio.get_running_loop()
    probe = _probes.setdefault(loop, Probe())
    async with probe.opening:
        if probe.channel is None:
            probe.channel = await layer.new_channel()  # the default prefix: see realtime.hub
        if probe.reader is None or probe.reader.done():
            probe.reader = loop.create_task(probe.read(layer), context=contextvars.Context())
    token = secrets.token_hex(8)
    arrived = probe.waiting[token] = loop.create_future()
    try:
        await layer.send(probe.channel, {"type": "healthz.ping", "token": token})
        message = await arrived
    finally:
        del probe.waiting[token]
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
