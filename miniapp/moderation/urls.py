from django.urls import path

from miniapp.moderation import apis

urlpatterns = [
    path("api/videos/<int:video_id>/reports/", apis.ReportApi.as_view(), name="api-reports"),
    path(
        "api/groups/<int:group_id>/posts/<int:post_id>/reports/",
        apis.PostReportApi.as_view(),
        name="api-post-reports",
    ),
    path("api/lives/<int:live_id>/reports/", apis.LiveReportApi.as_view(), name="api-live-reports"),
    path("api/comments/<int:comment_id>/reports/", apis.CommentReportApi.as_view(), name="api-comment-reports"),
]
