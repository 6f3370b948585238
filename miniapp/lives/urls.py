from django.conf import settings
from django.urls import path, re_path

from miniapp.lives import apis, views

urlpatterns = [
    path("api/lives/", apis.LiveListApi.as_view(), name="api-lives"),
    path("api/lives/<int:live_id>/", apis.LiveDetailApi.as_view(), name="api-live"),
    path("api/lives/<int:live_id>/start/", apis.LiveStartApi.as_view(), name="api-live-start"),
    path("api/lives/<int:live_id>/end/", apis.LiveEndApi.as_view(), name="api-live-end"),
    path("api/lives/<int:live_id>/likes/", apis.LiveLikeApi.as_view(), name="api-live-likes"),
    path("api/lives/<int:live_id>/comments/", apis.LiveCommentApi.as_view(), name="api-live-comments"),
    path(
        "api/lives/<int:live_id>/comments/<int:comment_id>/",
        apis.LiveCommentDetailApi.as_view(),
        name="api-live-comment",
    ),
    path("api/lives/<int:live_id>/mutes/", apis.LiveMuteApi.as_view(), name="api-live-mutes"),
    path("live/new/", views.live_new, name="live-new"),
    path("live/<int:live_id>/", views.live_page, name="live"),
    path("live/<int:live_id>/qr.svg", views.live_qr, name="live-qr"),
]

if settings.SERVE_MEDIA:
    # Before the media files' own route (videos.urls): a live's files have their types and caching.
    media = settings.MEDIA_URL.strip("/")
    pattern = rf"^{media}/lives/(?P<key>[0-9a-f]{{32}})/(?P<name>[^/]+)$"
    urlpatterns.append(re_path(pattern, views.media, name="live-media"))
