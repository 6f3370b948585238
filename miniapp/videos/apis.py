from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from miniapp.engagement.cards import VideoOutputSerializer, feed_page, video_cards
from miniapp.lib.api import TextField
from miniapp.lib.text import validate_multiline, validate_one_line
from miniapp.moderation.limits import NotBanned, UploadRateThrottle
from miniapp.videos import processing, services
from miniapp.videos.selectors import video_get_for_viewer, video_or_404


class VideoListApi(APIView):
    """The feed (GET, anyone) and uploads (POST, signed-in users)."""

    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        file = serializers.FileField()
        title = TextField(max_length=80, validators=[validate_one_line])
        description = TextField(
            max_length=500, required=False, allow_blank=True, default="", validators=[validate_multiline]
        )
        cover_at = serializers.FloatField(
            required=False,
            min_value=0,
            max_value=3600,
            help_text="the cover: the frame at this many seconds (kept within the video); without it, at 1 s",
        )

    def get_permissions(self):
        return [AllowAny()] if self.request.method == "GET" else [IsAuthenticated(), NotBanned()]

    def get_throttles(self):
        return [] if self.request.method == "GET" else [UploadRateThrottle()]

    @extend_schema(
        operation_id="videos_feed",
        parameters=[OpenApiParameter("cursor", OpenApiTypes.STR, description="from the previous page's `next`")],
        responses=inline_serializer(
            "FeedPage",
            {
                "next": serializers.URLField(allow_null=True),
                "previous": serializers.URLField(allow_null=True),
                "results": VideoOutputSerializer(many=True),
            },
        ),
    )
    def get(self, request):
        """The ranked home feed: friends' likes first, then hot videos; see `engagement.ranking`."""
        cards, next_url = feed_page(request, cursor=request.query_params.get("cursor"))
        return Response({"next": next_url, "previous": None, "results": cards})

    @extend_schema(
        request=InputSerializer,
        responses={
            201: VideoOutputSerializer,
            # A file that is not a usable video: `detail` and `code`. A form with a field
            # missing or wrong: DRF's errors for each field, as lists of messages.
            400: inline_serializer(
                "UploadRefusal",
                {
                    "detail": serializers.CharField(required=False),
                    "code": serializers.CharField(
                        required=False,
                        help_text=(
                            "not_video, no_video, image, too_long, too_short, truncated, encoding, resolution, "
                            "frame_rate, too_many_pixels, audio_encoding, too_much_audio or failed"
                        ),
                    ),
                    **{
                        name: serializers.ListField(child=serializers.CharField(), required=False)
                        for name in ("file", "title", "description", "cover_at")
                    },
                },
            ),
            413: inline_serializer(
                "UploadTooBig", {"detail": serializers.CharField(), "code": serializers.CharField(required=False)}
            ),
        },
    )
    def post(self, request):
        limit = settings.VIDEO_MAX_BYTES
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
        if declared > limit + 64 * 1024:  # refuse before reading the body; a little room for the form fields
            return Response(
                {"detail": _("Videos can be at most %(mb)d MB.") % {"mb": limit // (1024 * 1024)}},
                status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            video = services.video_create_from_upload(
                author=request.user,
                upload=data["file"],
                title=data["title"],
                description=data["description"],
                cover_at=data.get("cover_at"),
            )
        except processing.VideoRejected as rejected:
            code = (
                status.HTTP_413_REQUEST_ENTITY_TOO_LARGE if rejected.code == "too_big" else status.HTTP_400_BAD_REQUEST
            )
            return Response({"detail": str(rejected.message), "code": rejected.code}, status=code)
        video = video_get_for_viewer(video_id=video.pk, viewer=request.user)
        return Response(video_cards([video], request=request)[0], status=status.HTTP_201_CREATED)


class VideoDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=VideoOutputSerializer)
    def get(self, request, video_id: int):
        video = video_or_404(video_get_for_viewer(video_id=video_id, viewer=request.user))
        return Response(video_cards([video], request=request)[0])
