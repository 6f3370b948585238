"""miniapp's ASGI application with Django's own `ASGIHandler` for HTTP instead of
`lib.asgi_handler.SyncRequestHandler`: bench/http_cycle.py's "before". Everything else (the tap
route, `EventsAfterResponse`, the sockets) is the app's own."""

from channels.routing import ProtocolTypeRouter, URLRouter
from django.core.asgi import get_asgi_application
from django.urls import re_path

from miniapp import asgi
from miniapp.lives.routing import http_urlpatterns
from miniapp.realtime.events import EventsAfterResponse

application = ProtocolTypeRouter(
    {
        "http": URLRouter([*http_urlpatterns, re_path(r"", EventsAfterResponse(get_asgi_application()))]),
        "websocket": asgi.application.application_mapping["websocket"],
    }
)
