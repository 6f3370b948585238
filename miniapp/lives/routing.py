from django.urls import path

from miniapp.lives.consumers import IngestConsumer

websocket_urlpatterns = [
    path("ws/lives/<int:live_id>/ingest/", IngestConsumer.as_asgi()),
]
