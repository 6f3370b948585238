from asgiref.sync import async_to_sync
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from miniapp.accounts.models import Group, User
from miniapp.accounts.selectors import groups_of_member
from miniapp.accounts.serializers import UserOutputSerializer
from miniapp.engagement.services import live_announce, live_liked, live_started
from miniapp.lib.api import IdField, TextField
from miniapp.lib.parsers import JSONParser
from miniapp.lib.text import validate_one_line
from miniapp.lives import comments, services, taps
from miniapp.lives.bodies import live_body
from miniapp.lives.models import Comment, Live
from miniapp.lives.selectors import live_or_404, lives_listed
from miniapp.lives.tap_requests import TapInput, TapOutput, answer_taps
from miniapp.moderation.limits import CommentRateThrottle, NotBanned, ban_message
from miniapp.videos.selectors import video_published

LIST_SIZE = 50
MAX_GROUPS = 20


class LiveOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    host = UserOutputSerializer()
    status = serializers.ChoiceField(choices=Live.Status.choices)
    source = serializers.ChoiceField(choices=Live.Source.choices)
    starts_at = serializers.DateTimeField(allow_null=True)
    started = serializers.DateTimeField(allow_null=True)
    ended = serializers.DateTimeField(allow_null=True)
    end_reason = serializers.CharField(allow_blank=True)
    paused = serializers.BooleanField(help_text="on air, the host's camera quiet for a few seconds")
    keep_replay = serializers.BooleanField()
    near = serializers.BooleanField(help_text="in lists: the host is the viewer's friend or in one of their groups")
    hls_url = serializers.CharField(allow_null=True, help_text="the HLS playlist, while on air (null otherwise)")
    page_url = serializers.CharField()
    replay = serializers.DictField(allow_null=True, help_text="the video to watch once it has ended")
    viewers = serializers.IntegerField()
    likes = serializers.IntegerField()


def _first(errors) -> str:
    """The first message of a field's errors: a list, or for a list field a dict by position."""
    while isinstance(errors, dict | list):
        errors = next(iter(errors.values())) if isinstance(errors, dict) else errors[0]
    return str(errors)


def _refused(error: DjangoValidationError) -> ValidationError:
    """A service's refusal as a 400 whose `detail` a person can act on."""
    messages = error.message_dict if hasattr(error, "error_dict") else {"detail": error.messages}
    first = next(iter(messages.values()))[0]
    return ValidationError({"detail": first, **{k: v for k, v in messages.items() if k != "detail"}})


def _my_groups(user, group_ids: list[int]) -> tuple[list[Group], dict | None]:
    """The groups named if all are the user's; else the refusal, with `not_member` (as a share's)."""
    wanted = list(dict.fromkeys(group_ids))
    mine = groups_of_member(user_id=user.pk, group_ids=wanted)
    outside = sorted(set(wanted) - set(mine))
    if not outside:
        return [mine[pk] for pk in wanted], None
    detail = _("You can only announce a live in groups you are in. Not yours: %(ids)s.") % {
        "ids": ", ".join(map(str, outside))
    }
    return [], {"detail": detail, "not_member": outside}


class LiveListApi(APIView):
    """Lives on air (those of friends and group mates first), then those announced;
    `?status=live`: only those on air. POST: announce one (the host is the caller): from
    the camera (sent over `/ws/lives/<id>/ingest/` once started), or playing `video`."""

    parser_classes = [JSONParser]

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsAuthenticated(), NotBanned()]
        return [AllowAny()]

    class InputSerializer(serializers.Serializer):
        title = TextField(max_length=60, validators=[validate_one_line])
        video = IdField(required=False, allow_null=True)
        starts_at = serializers.DateTimeField(required=False, allow_null=True)
        keep_replay = serializers.BooleanField(default=True, help_text="a camera live's recording becomes a video")
        groups = serializers.ListField(
            child=IdField(),
            required=False,
            max_length=MAX_GROUPS,
            help_text="my groups to announce it in (a `live` post in each)",
        )

    @extend_schema(
        operation_id="lives_list",
        parameters=[OpenApiParameter("status", str, enum=["live"], description="only the lives on air")],
        responses={200: inline_serializer("LiveList", {"results": LiveOutputSerializer(many=True)})},
    )
    def get(self, request):
        wanted = request.query_params.get("status")
        if wanted not in (None, Live.Status.LIVE):
            raise ValidationError({"detail": _('status can only be "live" (the lives on air), or left out.')})
        on_air = wanted == Live.Status.LIVE
        lives = list(lives_listed(request.user, on_air=on_air)[:LIST_SIZE])
        return Response({"results": [live_body(live) for live in lives]})

    @extend_schema(request=InputSerializer, responses={201: LiveOutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        if not data.is_valid():
            field, errors = next(iter(data.errors.items()))
            raise ValidationError({"detail": f"{field}: {_first(errors)}", **data.errors})
        valid = data.validated_data
        clip = None
        if valid.get("video"):
            clip = video_published(valid["video"])  # and the host's: live_create checks
            if clip is None:
                raise ValidationError({"detail": str(services.CLIP_REFUSED)})
        groups, refusal = _my_groups(request.user, valid.get("groups", []))
        if refusal is not None:
            return Response(refusal, status=status.HTTP_400_BAD_REQUEST)
        try:
            with transaction.atomic():
                live = services.live_create(
                    host=request.user,
                    title=valid["title"],
                    clip=clip,
                    starts_at=valid.get("starts_at"),
                    keep_replay=valid["keep_replay"],
                )
                live_announce(live=live, groups=groups)
        except DjangoValidationError as error:
            raise _refused(error) from error
        return Response(live_body(live), status=status.HTTP_201_CREATED)


class LiveDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses={200: LiveOutputSerializer})
    def get(self, request, live_id: int):
        return Response(live_body(live_or_404(live_id)))


class _HostApi(APIView):
    permission_classes = [IsAuthenticated, NotBanned]

    def host_live(self, request, live_id: int) -> Live:
        live = live_or_404(live_id)
        if live.host_id != request.user.pk:
            raise PermissionDenied(_("Only the host can start or end this live."))
        return live


class LiveStartApi(_HostApi):
    @extend_schema(request=None, responses={200: LiveOutputSerializer})
    def post(self, request, live_id: int):
        live = self.host_live(request, live_id)
        try:
            with transaction.atomic():
                # Locked first: of two starts at once, one finds it announced and posts.
                announced = Live.objects.select_for_update().get(pk=live.pk).status == Live.Status.SCHEDULED
                live = services.live_start(live=live)
                if announced:
                    live_started(live=live)
        except DjangoValidationError as error:
            raise _refused(error) from error
        return Response(live_body(live_or_404(live.pk)))


class LiveEndApi(_HostApi):
    permission_classes = [IsAuthenticated]  # a banned host can still end their live

    @extend_schema(request=None, responses={200: LiveOutputSerializer})
    def post(self, request, live_id: int):
        live = services.live_end(live=self.host_live(request, live_id))
        return Response(live_body(live_or_404(live.pk)))


class LiveLikeApi(APIView):
    """A batch of the viewer's taps on the heart. `batch` names it: sent again (the answer was
    lost), it is answered as the first time and counted once. Taps over TAPS_PER_SECOND a
    second are refused and said so (`refused`; a 429 when none of the batch counted).

    Under Daphne, the ASGI router answers this path without Django (`lives.tap_requests`);
    this view answers it with the same function everywhere else, and documents it."""

    # Each checked by `answer_taps` as Django's stack does, the same on both ways in.
    authentication_classes = []
    permission_classes = [AllowAny]
    parser_classes = [JSONParser]  # what the schema says it takes (`answer_taps` reads the body)

    @extend_schema(request=TapInput, responses={200: TapOutput, 429: TapOutput})
    def post(self, request, live_id: int):
        status_code, body = async_to_sync(answer_taps)(
            request._request, live_id, count=taps.count_here, on_first=live_liked, ban_message=ban_message
        )
        return Response(body, status=status_code)


class CommentOutputSerializer(serializers.Serializer):
    type = serializers.CharField()
    id = serializers.IntegerField()
    user = UserOutputSerializer()
    text = serializers.CharField()
    staff = serializers.BooleanField(help_text="the host's or a moderator's")
    created = serializers.CharField()


class LiveCommentApi(APIView):
    """A comment in a live room (on air), shown to every viewer as it comes. Signed in, not
    banned, not muted in this live, at most COMMENT_RATE."""

    permission_classes = [IsAuthenticated, NotBanned]
    throttle_classes = [CommentRateThrottle]
    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        text = serializers.CharField(max_length=1000, allow_blank=True, trim_whitespace=False)

    @extend_schema(request=InputSerializer, responses={201: CommentOutputSerializer})
    def post(self, request, live_id: int):
        live = live_or_404(live_id)
        data = self.InputSerializer(data=request.data)
        if not data.is_valid():
            raise ValidationError({"detail": _("Send the comment as `text`."), **data.errors})
        try:
            comment = comments.comment_create(live=live, user=request.user, text=data.validated_data["text"])
        except DjangoPermissionDenied as error:
            raise PermissionDenied(str(error)) from error
        except DjangoValidationError as error:
            raise ValidationError({"detail": error.messages[0]}) from error
        return Response(comments.comment_body(comment), status=status.HTTP_201_CREATED)


class LiveCommentDetailApi(APIView):
    """DELETE: the host or a moderator takes a comment off every screen."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, live_id: int, comment_id: int):
        live = live_or_404(live_id)
        comment = get_object_or_404(Comment, pk=comment_id, live=live)
        if not comments.room_moderator(request.user, live):
            raise PermissionDenied(_("Only the host or a moderator can remove comments."))
        comments.comment_remove(comment=comment)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LiveMuteApi(APIView):
    """The host or a moderator mutes a viewer in this live: their comments are refused here,
    and those they made are removed."""

    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        user = IdField()

    @extend_schema(request=InputSerializer, responses={204: None})
    def post(self, request, live_id: int):
        live = live_or_404(live_id)
        if not comments.room_moderator(request.user, live):
            raise PermissionDenied(_("Only the host or a moderator can mute viewers."))
        data = self.InputSerializer(data=request.data)
        if not data.is_valid():
            raise ValidationError({"detail": _("Send the id of the viewer to mute as `user`."), **data.errors})
        viewer = get_object_or_404(User, pk=data.validated_data["user"])
        try:
            comments.mute(live=live, user=viewer, by=request.user)
        except DjangoValidationError as error:
            raise ValidationError({"detail": error.messages[0]}) from error
        return Response(status=status.HTTP_204_NO_CONTENT)
