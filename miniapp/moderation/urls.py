from django.urls import path

from miniapp.moderation import apis

urlpatterns = [
    path("api/videos/<int:video_id>/reports/", apis.ReportApi.as_view(), name="api-reports"),
]
