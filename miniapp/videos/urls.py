from django.conf import settings
from django.urls import path

from miniapp.videos import apis, media, views

urlpatterns = [
    path("", views.home, name="home"),
    path("v/<int:video_id>/", views.detail, name="video-detail"),
    path("v/<int:video_id>/like-after-sign-in/", views.like_after_sign_in, name="video-like-after-sign-in"),
    path("u/<int:user_id>/", views.author, name="author"),
    path("upload/", views.upload, name="upload"),
    path("api/videos/", apis.VideoListApi.as_view(), name="api-videos"),
    path("api/videos/<int:video_id>/", apis.VideoDetailApi.as_view(), name="api-video"),
]

if settings.SERVE_MEDIA:
    urlpatterns.append(path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", media.serve, name="media"))
