from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from miniapp.engagement.comments import comment_visible
from miniapp.engagement.selectors import group_post_or_404
from miniapp.lib.api import TextField
from miniapp.lib.text import validate_multiline
from miniapp.lives.selectors import live_or_404
from miniapp.moderation import services
from miniapp.moderation.limits import NotBanned, ReportRateThrottle
from miniapp.moderation.models import REPORT_TEXT_MAX, Report
from miniapp.videos.selectors import video_published_or_404

# What a 400 of the report APIs says (the same for a video, a post and a live).
REPORT_REFUSAL = inline_serializer(
    "ReportRefusal",
    {
        "detail": serializers.CharField(),
        "reasons": serializers.ListField(
            child=serializers.CharField(), required=False, help_text="the reasons to choose from"
        ),
        "limit": serializers.IntegerField(required=False, help_text="the longest text allowed"),
    },
)


class ReportApi(APIView):
    """Report a video to the moderators. One open report per user and video: a repeat
    answers the open report again (200) and changes nothing."""

    permission_classes = [IsAuthenticated, NotBanned]
    throttle_classes = [ReportRateThrottle]

    class InputSerializer(serializers.Serializer):
        reason = serializers.ChoiceField(choices=Report.Reason.choices)
        text = TextField(
            required=False, allow_blank=True, default="", max_length=REPORT_TEXT_MAX, validators=[validate_multiline]
        )

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        reason = serializers.CharField()
        status = serializers.CharField()
        created = serializers.DateTimeField()

    @extend_schema(
        request=InputSerializer, responses={201: OutputSerializer, 200: OutputSerializer, 400: REPORT_REFUSAL}
    )
    def post(self, request, video_id: int):
        return self.report(request, video=video_published_or_404(video_id))

    def report(self, request, *, video=None, post=None, live=None, comment=None) -> Response:
        data = self.InputSerializer(data=request.data)
        if not data.is_valid():
            return Response(self._refusal(data.errors), status=status.HTTP_400_BAD_REQUEST)
        report, created = services.report_create(
            reporter=request.user,
            video=video,
            reason=data.validated_data["reason"],
            text=data.validated_data["text"].strip(),
            post=post,
            live=live,
            comment=comment,
        )
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(self.OutputSerializer(report).data, status=code)

    @staticmethod
    def _refusal(errors: dict) -> dict:
        if "reason" in errors:
            choices = ", ".join(Report.Reason.values)
            detail = _("Choose a reason: one of %(choices)s.") % {"choices": choices}
            return {"detail": detail, "reasons": Report.Reason.values}
        if any(error.code == "max_length" for error in errors.get("text", [])):
            return {
                "detail": _("Details can be at most %(limit)d characters.") % {"limit": REPORT_TEXT_MAX},
                "limit": REPORT_TEXT_MAX,
            }
        # Details that are not text, or a body that is not an object: DRF's own message.
        return {"detail": str(next(iter(errors.values()))[0])}


class PostReportApi(ReportApi):
    """Report a post in one of my groups (its video, or its live, with the post's note and group to judge).
    The same reasons and rules as a video's report; 404 unless I am in the group and the post
    stands."""

    @extend_schema(request=ReportApi.InputSerializer, responses={201: ReportApi.OutputSerializer})
    def post(self, request, group_id: int, post_id: int):
        post = group_post_or_404(group_id=group_id, post_id=post_id, user_id=request.user.pk)
        if post.live_id is not None:  # a live's announcement: the live is what is reported
            return self.report(request, live=post.live, post=post)
        return self.report(request, video=post.video, post=post)


class LiveReportApi(ReportApi):
    """Report a live room, on air, announced or over: the same reasons and rules as a video's
    report. It waits in the report queue; only a moderator ends a live (reports alone do not)."""

    @extend_schema(
        request=ReportApi.InputSerializer,
        responses={201: ReportApi.OutputSerializer, 200: ReportApi.OutputSerializer, 400: REPORT_REFUSAL},
    )
    def post(self, request, live_id: int):
        return self.report(request, live=live_or_404(live_id))


class CommentReportApi(ReportApi):
    """Report a comment on a video: the same reasons and rules as a video's report. It waits in the
    report queue, where a moderator may hide it; reports of a comment never hide its video."""

    @extend_schema(
        request=ReportApi.InputSerializer,
        responses={201: ReportApi.OutputSerializer, 200: ReportApi.OutputSerializer, 400: REPORT_REFUSAL},
    )
    def post(self, request, comment_id: int):
        comment = comment_visible(comment_id)
        if comment is None:
            raise Http404(_("This comment does not exist or was removed."))
        return self.report(request, comment=comment)
