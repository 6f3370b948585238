"""ASGI entry point: Django for HTTP, Channels for WebSockets, on one port."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "miniapp.settings")
django_asgi_app = get_asgi_application()

# Imported after Django is set up: they load models.
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from miniapp.lib.daphne_forms import leave_form_bodies_to_django  # noqa: E402
from miniapp.realtime.auth import SocketUserMiddleware  # noqa: E402
from miniapp.realtime.routing import websocket_urlpatterns  # noqa: E402

leave_form_bodies_to_django()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # The consumer checks the Origin itself, to refuse with close code 4403. Not
        # Channels' AuthMiddlewareStack: see realtime.auth.
        "websocket": SocketUserMiddleware(URLRouter(websocket_urlpatterns)),
    }
)

# Everything loaded so far lives as long as the process: move it out of the
# collector's sight, and collect less often. With CPython's defaults, full
# collections paused the loop for 80-190 ms with 1,000 sockets open and made the
# p99 of a like (bench/like_fanout.py, N=100) 60 ms instead of 22 ms.
gc.collect()
gc.freeze()
gc.set_threshold(50_000, 50, 1000)
