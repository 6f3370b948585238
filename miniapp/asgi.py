"""ASGI entry point: Django for HTTP, Channels for WebSockets, on one port."""

import gc
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "miniapp.settings")
django.setup(set_prefix=False)

# Imported after Django is set up: they load models.
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import re_path  # noqa: E402

from miniapp.engagement.routing import websocket_urlpatterns as comment_urlpatterns  # noqa: E402
from miniapp.lib.asgi_handler import SyncRequestHandler  # noqa: E402
from miniapp.lib.daphne_checks import spread_daphne_checks  # noqa: E402
from miniapp.lib.daphne_forms import leave_form_bodies_to_django  # noqa: E402
from miniapp.lives.routing import http_urlpatterns  # noqa: E402
from miniapp.lives.routing import websocket_urlpatterns as live_urlpatterns  # noqa: E402
from miniapp.realtime.auth import SocketUserMiddleware  # noqa: E402
from miniapp.realtime.events import EventsAfterResponse  # noqa: E402
from miniapp.realtime.routing import websocket_urlpatterns  # noqa: E402
from miniapp.realtime.socket_cycles import FreeClosedSockets  # noqa: E402

leave_form_bodies_to_django()
spread_daphne_checks()
# Django's ASGI handler, but each request's middleware and view in one trip to a thread
# of HTTP_THREADS (lib.asgi_handler).
django_asgi_app = SyncRequestHandler(threads=settings.HTTP_THREADS)

if settings.LIVE_RUNNER:
    from miniapp.lives.runner import runner

    runner.start()


def http_application(django_app) -> URLRouter:
    """HTTP: the events a request commits go out after its response (realtime.events). Tap
    requests, hundreds a second in a busy live room, are answered without Django's request
    cycle (lives.tap_requests). (bench/stock_handler_app.py puts Django's own handler here.)"""
    return URLRouter([*http_urlpatterns, re_path(r"", EventsAfterResponse(django_app))])


application = ProtocolTypeRouter(
    {
        "http": http_application(django_asgi_app),
        # The consumer checks the Origin itself, to refuse with close code 4403. Not
        # Channels' AuthMiddlewareStack: see realtime.auth. FreeClosedSockets works
        # around two upstream reference cycles that kept closed sockets in memory.
        "websocket": FreeClosedSockets(
            SocketUserMiddleware(URLRouter(websocket_urlpatterns + live_urlpatterns + comment_urlpatterns))
        ),
    }
)

# Everything loaded so far lives as long as the process: move it out of the
# collector's sight. With CPython's defaults, full collections walked every
# long-lived object (each open socket's among them) and paused the loop often enough
# to show in a like's p99 (bench/RESULTS.md); here a full collection comes after
# about 2 billion allocations, so what lives long must be freed by reference
# counting, never left in a reference cycle (a closed socket was:
# realtime.socket_cycles, bench/soak.py).
# The youngest generation stays small: Django's and DRF's request objects leave about
# 250 objects a request in reference cycles, and a young generation of 50,000 freed
# 40,000 of them at once, a pause of 15 to 90 ms on one request in a hundred or two
# (the p99 of a like or a group post). At 2,000 a pause is under 4 ms, for the same
# work in all.
gc.collect()
gc.freeze()
gc.set_threshold(2_000, 10, 100_000)
