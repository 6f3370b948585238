from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from miniapp.accounts.apis import UserOutputSerializer
from miniapp.engagement.selectors import friend_likers, liked_video_ids
from miniapp.lib.site import absolute_url
from miniapp.lib.text import validate_multiline, validate_one_line
from miniapp.moderation.limits import NotBanned, UploadRateThrottle
from miniapp.videos import processing, ranking, services
from miniapp.videos.models import Video
from miniapp.videos.selectors import video_get_for_viewer

FEED_PAGE_SIZE = 8


class VideoOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField()
    author = UserOutputSerializer()
    video_url = serializers.SerializerMethodField()
    poster_url = serializers.SerializerMethodField()
    page_url = serializers.SerializerMethodField()
    duration = serializers.FloatField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    like_count = serializers.IntegerField()
    share_count = serializers.IntegerField()
    liked_by_me = serializers.SerializerMethodField()
    friends_who_liked = serializers.SerializerMethodField()
    friends_liked_count = serializers.SerializerMethodField()
    status = serializers.CharField()
    created = serializers.DateTimeField()

    def get_video_url(self, video) -> str:
        return absolute_url(video.file.url)

    def get_poster_url(self, video) -> str:
        return absolute_url(video.poster.url)

    def get_page_url(self, video) -> str:
        return absolute_url(reverse("video-detail", args=[video.pk]))

    def get_liked_by_me(self, video) -> bool:
        return video.pk in self.context.get("liked", ())

    def _likers(self, video) -> dict:
        return self.context.get("friend_likers", {}).get(video.pk, {"count": 0, "users": []})

    @extend_schema_field(UserOutputSerializer(many=True))
    def get_friends_who_liked(self, video) -> list[dict]:
        return UserOutputSerializer(self._likers(video)["users"], many=True).data

    def get_friends_liked_count(self, video) -> int:
        return self._likers(video)["count"]


def feed_page(request, *, cursor: str | None = None, first: Video | None = None) -> tuple[list[dict], str | None]:
    """A page of the ranked home feed as cards, and the API URL of the next page.

    With `first` (a shared link), that video leads the page and is left out of the rest.
    """
    decoded = None
    if cursor:
        try:
            decoded = ranking.Cursor.decode(cursor)
        except ranking.BadCursor as bad:
            message = _("This feed cursor is not valid. Start again from the first page.")
            raise ValidationError({"detail": message}) from bad
    exclude = [first.pk] if first else []
    videos, following = ranking.feed_page(viewer=request.user, size=FEED_PAGE_SIZE, cursor=decoded, exclude=exclude)
    if first is not None:
        videos = [first, *videos]
    next_url = None
    if following is not None:
        next_url = absolute_url(f"{reverse('api-videos')}?{urlencode({'cursor': following.encode()})}")
    return video_cards(videos, request=request), next_url


def video_cards(videos: list[Video], *, request) -> list[dict]:
    """Serialize videos for `request.user`: their own likes and their friends' in one query each."""
    viewer_id = request.user.pk if request.user.is_authenticated else None
    ids = [video.pk for video in videos]
    context = {
        "request": request,
        "liked": liked_video_ids(user_id=viewer_id, video_ids=ids),
        "friend_likers": friend_likers(viewer_id=viewer_id, video_ids=ids),
    }
    return VideoOutputSerializer(videos, many=True, context=context).data


class VideoListApi(APIView):
    """The feed (GET, anyone) and uploads (POST, signed-in users)."""

    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        file = serializers.FileField()
        title = serializers.CharField(max_length=80, validators=[validate_one_line])
        description = serializers.CharField(
            max_length=500, required=False, allow_blank=True, default="", validators=[validate_multiline]
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
        """The ranked home feed: friends' likes first, then hot videos; see `videos.ranking`."""
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
                            "frame_rate, too_many_pixels, too_much_audio or failed"
                        ),
                    ),
                    **{
                        name: serializers.ListField(child=serializers.CharField(), required=False)
                        for name in ("file", "title", "description")
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
                author=request.user, upload=data["file"], title=data["title"], description=data["description"]
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
        video = video_get_for_viewer(video_id=video_id, viewer=request.user)
        if video is None:
            raise Http404(_("This video does not exist or is no longer available."))
        return Response(video_cards([video], request=request)[0])
