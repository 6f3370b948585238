from django.urls import path

from miniapp.engagement import apis, views

urlpatterns = [
    path("api/videos/<int:video_id>/shares/", apis.ShareApi.as_view(), name="api-shares"),
    path("api/videos/<int:video_id>/views/", apis.ViewApi.as_view(), name="api-views"),
    path("v/<int:video_id>/qr.svg", views.share_qr, name="share-qr"),
    path("api/videos/<int:video_id>/like/", apis.LikeApi.as_view(), name="api-like"),
    path("api/activity/", apis.ActivityApi.as_view(), name="api-activity"),
    path("api/videos/<int:video_id>/stats/", apis.VideoStatsApi.as_view(), name="api-video-stats"),
    path("me/videos/<int:video_id>/stats/", views.video_stats, name="video-stats"),
]
