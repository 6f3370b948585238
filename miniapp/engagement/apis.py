from django.conf import settings
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from miniapp.engagement import services
from miniapp.engagement.selectors import activity_latest, activity_replay
from miniapp.videos.models import Video
from miniapp.videos.selectors import videos_visible_to


class SettingRateThrottle(UserRateThrottle):
    """A per-user rate read from a setting at request time (e.g. LIKE_RATE = "60/min")."""

    setting = ""

    def get_rate(self):
        return getattr(settings, self.setting)


class LikeRateThrottle(SettingRateThrottle):
    scope = "like"
    setting = "LIKE_RATE"


def _published_video(request, video_id: int) -> Video:
    video = videos_visible_to(request.user).filter(pk=video_id, status=Video.Status.PUBLISHED).first()
    if video is None:
        raise Http404(_("This video does not exist or is no longer available."))
    return video


class LikeApi(APIView):
    """POST likes the video, DELETE takes the like back; both are idempotent."""

    throttle_classes = [LikeRateThrottle]

    class OutputSerializer(serializers.Serializer):
        liked = serializers.BooleanField()
        like_count = serializers.IntegerField()

    @extend_schema(request=None, responses=OutputSerializer)
    def post(self, request, video_id: int):
        liked, count = services.like_create(user=request.user, video=_published_video(request, video_id))
        return Response(self.OutputSerializer({"liked": liked, "like_count": count}).data)

    @extend_schema(request=None, responses=OutputSerializer)
    def delete(self, request, video_id: int):
        liked, count = services.like_delete(user=request.user, video=_published_video(request, video_id))
        return Response(self.OutputSerializer({"liked": liked, "like_count": count}).data)


class ActivityApi(APIView):
    """Friends' activity, oldest first.

    With `after=<id>`: every log entry after that position (activities and
    retractions), a page at a time, for catching up. Without it: the newest
    entries still standing, and `last_id` to resume from.
    """

    class FilterSerializer(serializers.Serializer):
        after = serializers.IntegerField(min_value=0, required=False)

    @extend_schema(
        parameters=[OpenApiParameter("after", OpenApiTypes.INT, description="the last log id the client has")],
        responses=inline_serializer(
            "ActivityPage",
            {
                "results": serializers.ListField(child=serializers.DictField()),
                "last_id": serializers.IntegerField(),
                "next": serializers.CharField(allow_null=True),
            },
        ),
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        if not filters.is_valid():
            raise ValidationError({"detail": _("after must be a whole number of 0 or more.")})
        limit = settings.ACTIVITY_PAGE_SIZE
        after = filters.validated_data.get("after")
        if after is None:
            events, last_id = activity_latest(viewer_id=request.user.pk, limit=limit)
            return Response({"results": events, "last_id": last_id, "next": None})
        events, complete = activity_replay(viewer_id=request.user.pk, after=after, limit=limit)
        last_id = events[-1]["seq"] if events else after
        next_url = None if complete else request.build_absolute_uri(f"{request.path}?after={last_id}")
        return Response({"results": events, "last_id": last_id, "next": next_url})
