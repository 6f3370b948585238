from django.urls import path

from miniapp.lives.consumers import IngestConsumer, TapApp
from miniapp.lives.room_socket import RoomConsumer

websocket_urlpatterns = [
    path("ws/lives/<int:live_id>/ingest/", IngestConsumer.as_asgi()),
    path("ws/live/<int:live_id>/", RoomConsumer.as_asgi()),
]

# Before Django: the one HTTP path answered without it (lives.tap_requests).
http_urlpatterns = [
    path("api/lives/<int:live_id>/likes/", TapApp()),
]
