from django.urls import path

from miniapp.lives.consumers import IngestConsumer
from miniapp.lives.room_socket import RoomConsumer

websocket_urlpatterns = [
    path("ws/lives/<int:live_id>/ingest/", IngestConsumer.as_asgi()),
    path("ws/live/<int:live_id>/", RoomConsumer.as_asgi()),
]
