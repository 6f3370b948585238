"""好友动态: my friends' and my groups' latest activity, or what I missed since an id."""

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from miniapp.engagement.selectors import (
    activity_latest,
    activity_replay,
)
from miniapp.lib.api import IdField
from miniapp.lib.site import absolute_url


class ActivityApi(APIView):
    """Friends' activity, oldest first.

    With `after=<id>`: every log entry after that position (activities and
    retractions), a page at a time, for catching up. Without it: the newest
    entries still standing, and `last_id` to resume from.
    """

    class FilterSerializer(serializers.Serializer):
        after = IdField(min_value=0, required=False, help_text="the last log id the client has")
        groups = serializers.BooleanField(
            required=False, default=False, help_text="with `after`: my groups' posts too (group_post), as the socket"
        )

    @extend_schema(
        parameters=[FilterSerializer],
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
        # A plain dict: as form input, DRF would take `?groups=` or `?after=` (empty) as not sent.
        filters = self.FilterSerializer(data=request.query_params.dict())
        if not filters.is_valid():
            if "after" not in filters.errors:
                raise ValidationError({"detail": _("groups must be 1 or 0.")})
            raise ValidationError({"detail": _("after must be a whole number of 0 or more.")})
        limit = settings.ACTIVITY_PAGE_SIZE
        after = filters.validated_data.get("after")
        if after is None:
            events, last_id = activity_latest(viewer_id=request.user.pk, limit=limit)
            return Response({"results": events, "last_id": last_id, "next": None})
        groups = filters.validated_data["groups"]
        events, complete = activity_replay(viewer_id=request.user.pk, after=after, limit=limit, groups=groups)
        last_id = events[-1]["seq"] if events else after
        more = f"?after={last_id}" + ("&groups=1" if groups else "")
        next_url = None if complete else absolute_url(f"{request.path}{more}")
        return Response({"results": events, "last_id": last_id, "next": next_url})
