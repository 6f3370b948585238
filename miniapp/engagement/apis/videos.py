"""The APIs of a video's likes, shares (to friends, into groups, as a link), views and stats."""

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from miniapp.accounts.models import User
from miniapp.accounts.selectors import friend_ids_of, groups_of_member
from miniapp.accounts.serializers import UserOutputSerializer
from miniapp.engagement import services, stats
from miniapp.engagement.arrivals import arrival_share
from miniapp.engagement.models import NOTE_MAX
from miniapp.engagement.selectors import (
    share_url,
)
from miniapp.engagement.visitors import visitor_id
from miniapp.lib.api import IdField, TextField
from miniapp.lib.text import validate_multiline
from miniapp.moderation.limits import (
    LikeRateThrottle,
    NotBanned,
    ShareRateThrottle,
    ViewRateThrottle,
)
from miniapp.videos.selectors import video_or_404, video_published_or_404


class LikeApi(APIView):
    """POST likes the video, DELETE takes the like back; both are idempotent."""

    permission_classes = [IsAuthenticated, NotBanned]
    throttle_classes = [LikeRateThrottle]

    class OutputSerializer(serializers.Serializer):
        liked = serializers.BooleanField()
        like_count = serializers.IntegerField()

    @extend_schema(request=None, responses=OutputSerializer)
    def post(self, request, video_id: int):
        video = video_published_or_404(video_id)
        liked, count = services.like_create(user=request.user, video=video, share=arrival_share(request, video.pk))
        return Response(self.OutputSerializer({"liked": liked, "like_count": count}).data)

    @extend_schema(request=None, responses={200: OutputSerializer})
    def delete(self, request, video_id: int):
        liked, count = services.like_delete(user=request.user, video=video_published_or_404(video_id))
        return Response(self.OutputSerializer({"liked": liked, "like_count": count}).data)


class GroupShareSerializer(serializers.Serializer):
    """A share's post in one of the groups it went to."""

    id = serializers.IntegerField(help_text="the group")
    post = serializers.IntegerField(help_text="the post made in it")


class ShareApi(APIView):
    """Share a video: to friends with a note (they see it live), or as a link to copy or scan.

    Answers the link, `/v/<id>/?s=<token>`, which opens the video for anyone. A plain
    link (no friends, no note) is made once and handed out again (200 instead of 201).
    """

    permission_classes = [IsAuthenticated, NotBanned]
    throttle_classes = [ShareRateThrottle]
    MAX_RECIPIENTS = 50

    MAX_GROUPS = 20

    class InputSerializer(serializers.Serializer):
        to = serializers.ListField(child=IdField(), required=False, default=list)
        groups = serializers.ListField(child=IdField(), required=False, default=list)
        note = TextField(required=False, allow_blank=True, default="", validators=[validate_multiline])

    class OutputSerializer(serializers.Serializer):
        url = serializers.URLField()
        token = serializers.CharField()
        share_count = serializers.IntegerField()
        recipients = serializers.IntegerField()
        depth = serializers.IntegerField()
        groups = GroupShareSerializer(many=True)

    def _refusal(
        self, data: dict, ids: list[int], group_ids: list[int], mine: dict, note: str, errors: dict
    ) -> dict | None:
        """Why this share cannot be made, as the 400 body; None when it can."""
        if not data:
            unshown = [error for error in errors.get("note", ()) if error.code == "invisible_character"]
            return {
                "detail": str(unshown[0])
                if unshown
                else _("Send a list of friend ids in `to`, of group ids in `groups`, and the note as text.")
            }
        if len(note) > NOTE_MAX:
            return {
                "detail": _("A note can be at most %(limit)d characters; this one has %(length)d.")
                % {"limit": NOTE_MAX, "length": len(note)},
                "limit": NOTE_MAX,
            }
        if len(ids) > self.MAX_RECIPIENTS:
            return {"detail": _("Share with at most %(count)d friends at a time.") % {"count": self.MAX_RECIPIENTS}}
        strangers = sorted(set(ids) - set(friend_ids_of(self.request.user.pk))) if ids else []
        if strangers:
            return {
                "detail": _("You can only share with your friends. Not your friends: %(ids)s.")
                % {"ids": ", ".join(map(str, strangers))},
                "not_friends": strangers,
            }
        if len(group_ids) > self.MAX_GROUPS:
            return {"detail": _("Share into at most %(count)d groups at a time.") % {"count": self.MAX_GROUPS}}
        outside = sorted(set(group_ids) - set(mine))
        if outside:
            return {
                "detail": _("You can only share into groups you are in. Not yours: %(ids)s.")
                % {"ids": ", ".join(map(str, outside))},
                "not_member": outside,
            }
        return None

    @extend_schema(
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            200: OutputSerializer,
            400: inline_serializer(
                "ShareRefusal",
                {
                    "detail": serializers.CharField(),
                    "limit": serializers.IntegerField(required=False, help_text="the longest note allowed"),
                    "not_friends": serializers.ListField(
                        child=serializers.IntegerField(), required=False, help_text="ids in `to` that are not friends"
                    ),
                    "not_member": serializers.ListField(
                        child=serializers.IntegerField(),
                        required=False,
                        help_text="ids in `groups` of groups the sharer is not in",
                    ),
                },
            ),
        },
    )
    def post(self, request, video_id: int):
        video = video_published_or_404(video_id)
        data = self.InputSerializer(data=request.data)
        valid = data.validated_data if data.is_valid() else {}
        ids, note = list(dict.fromkeys(valid.get("to", []))), valid.get("note", "").strip()
        group_ids = list(dict.fromkeys(valid.get("groups", [])))
        # Those of the groups named that the sharer is in (none is looked up past the limit).
        mine = groups_of_member(user_id=request.user.pk, group_ids=group_ids[: self.MAX_GROUPS])
        refusal = self._refusal(valid, ids, group_ids, mine, note, data.errors if not valid else {})
        if refusal is not None:
            return Response(refusal, status=status.HTTP_400_BAD_REQUEST)
        users = User.objects.in_bulk(ids) if ids else {}
        recipients = [users[pk] for pk in ids]
        groups = [mine[pk] for pk in group_ids]
        arrived_via = arrival_share(request, video.pk)
        with transaction.atomic():
            share, created = None, True
            if recipients or not groups:  # to friends, or a link: the link this answers
                share, created = services.share_create(
                    sharer=request.user, video=video, recipients=recipients, note=note, arrived_via=arrived_via
                )
            posts = services.group_posts_create(
                sharer=request.user, video=video, groups=groups, note=note, arrived_via=arrived_via
            )
        share = share or posts[0].share  # `video.share_count` is the count the share's update left
        body = {
            "url": share_url(share),
            "token": share.token,
            "share_count": video.share_count,
            "recipients": len(recipients),
            "depth": share.depth,
            "groups": [{"id": post.group_id, "post": post.pk} for post in posts],
        }
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(self.OutputSerializer(body).data, status=code)


class ViewApi(APIView):
    """The page reports a video watched for a couple of seconds; counted once per viewer and day.
    Signed out, only from a browser the server gave an id (`visitors`), whatever cookies it sends."""

    permission_classes = [AllowAny]
    throttle_classes = [ViewRateThrottle]

    class InputSerializer(serializers.Serializer):
        seconds = serializers.FloatField(min_value=0, max_value=24 * 3600)

    class OutputSerializer(serializers.Serializer):
        counted = serializers.BooleanField()

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request, video_id: int):
        video = video_published_or_404(video_id)
        data = self.InputSerializer(data=request.data)
        if not data.is_valid():
            raise ValidationError({"detail": _("Send how long the video played, in seconds, as `seconds`.")})
        if data.validated_data["seconds"] < settings.VIEW_MIN_SECONDS:
            raise ValidationError(
                {
                    "detail": _("A view counts after %(seconds)d seconds of watching.")
                    % {"seconds": settings.VIEW_MIN_SECONDS}
                }
            )
        viewer = request.user if request.user.is_authenticated else None
        # A signed-out browser is told apart by the id a video page gave it (`visitors`).
        browser = None if viewer else visitor_id(request)
        if viewer is None and browser is None:
            raise ValidationError({"detail": _("Open the video's page first, then watch it there.")})
        counted = services.view_record(
            video=video,
            visitor=services.visitor_key(user=viewer, browser=browser or ""),
            viewer=viewer,
            share=arrival_share(request, video.pk),
        )
        return Response(self.OutputSerializer({"counted": counted}).data)


class StatsSharerSerializer(serializers.Serializer):
    user = UserOutputSerializer()
    shares = serializers.IntegerField()
    views = serializers.IntegerField()
    likes = serializers.IntegerField()


class StatsBucketSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    likes = serializers.IntegerField()


class VideoStatsApi(APIView):
    """The share cascade of one of my videos: shares, the views and likes they brought, the
    best sharers and likes over time. Only its author (or staff) may read it; anyone else
    is told the video does not exist."""

    class OutputSerializer(serializers.Serializer):
        shares = serializers.IntegerField()
        reshares = serializers.IntegerField()
        views = serializers.IntegerField()
        views_via_shares = serializers.IntegerField()
        likes = serializers.IntegerField()
        likes_via_shares = serializers.IntegerField()
        deepest_chain = serializers.IntegerField()
        top_sharers = StatsSharerSerializer(many=True)
        unit = serializers.ChoiceField(choices=["hour", "day"])
        likes_over_time = StatsBucketSerializer(many=True)

    @extend_schema(responses=OutputSerializer)
    def get(self, request, video_id: int):
        video = video_or_404(stats.video_get_for_stats(video_id=video_id, user=request.user))
        return Response(self.OutputSerializer(stats.video_share_stats(video)).data)
