"""miniapp's ASGI application with Django's own `ASGIHandler` for HTTP instead of
`lib.asgi_handler.SyncRequestHandler`: bench/http_cycle.py's "before". Everything else (the tap
route, `EventsAfterResponse`, the sockets) is the app's own."""

from channels.routing import ProtocolTypeRouter
from django.core.asgi import get_asgi_application

from miniapp import asgi

application = ProtocolTypeRouter(
    {
        "http": asgi.http_application(get_asgi_application()),
        "websocket": asgi.application.application_mapping["websocket"],
    }
)
