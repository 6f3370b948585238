from django.urls import path

from miniapp.realtime.consumers import ActivityConsumer

websocket_urlpatterns = [
    path("ws/activity/", ActivityConsumer.as_asgi()),
]
