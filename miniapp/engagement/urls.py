from django.urls import path

from miniapp.engagement import apis

urlpatterns = [
    path("api/videos/<int:video_id>/like/", apis.LikeApi.as_view(), name="api-like"),
    path("api/activity/", apis.ActivityApi.as_view(), name="api-activity"),
]
