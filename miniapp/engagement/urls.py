from django.urls import path

from miniapp.engagement import views
from miniapp.engagement.apis import activity, comments, groups, videos

urlpatterns = [
    path("api/videos/<int:video_id>/shares/", videos.ShareApi.as_view(), name="api-shares"),
    path("api/videos/<int:video_id>/views/", videos.ViewApi.as_view(), name="api-views"),
    path("v/<int:video_id>/qr.svg", views.share_qr, name="share-qr"),
    path("v/<int:video_id>/poster.jpg", views.share_poster, name="share-poster"),
    path("api/videos/<int:video_id>/like/", videos.LikeApi.as_view(), name="api-like"),
    path("api/videos/<int:video_id>/comments/", comments.CommentListApi.as_view(), name="api-comments"),
    path("api/comments/<int:comment_id>/", comments.CommentApi.as_view(), name="api-comment"),
    path("api/comments/<int:comment_id>/pin/", comments.CommentPinApi.as_view(), name="api-comment-pin"),
    path("api/activity/", activity.ActivityApi.as_view(), name="api-activity"),
    path("api/videos/<int:video_id>/stats/", videos.VideoStatsApi.as_view(), name="api-video-stats"),
    path("me/videos/<int:video_id>/stats/", views.video_stats, name="video-stats"),
    path("api/groups/", groups.GroupListApi.as_view(), name="api-groups"),
    path("api/groups/<int:group_id>/", groups.GroupDetailApi.as_view(), name="api-group"),
    path("api/groups/<int:group_id>/posts/", groups.GroupPostsApi.as_view(), name="api-group-posts"),
    path("api/groups/<int:group_id>/read/", groups.GroupReadApi.as_view(), name="api-group-read"),
    path("groups/", views.groups_page, name="groups"),
    path("groups/<int:group_id>/", views.group_page, name="group"),
]
