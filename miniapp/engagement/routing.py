from django.urls import path

from miniapp.engagement.consumers import CommentsConsumer

websocket_urlpatterns = [
    path("ws/videos/<int:video_id>/comments/", CommentsConsumer.as_asgi()),
]
