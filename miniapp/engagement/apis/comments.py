"""The comments' APIs (评论): a video's comments and replies, deleting and pinning one.
(Reporting one is moderation's.)"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from miniapp.engagement import comments
from miniapp.lib.api import IdField
from miniapp.moderation.limits import (
    CommentRateThrottle,
    NotBanned,
)
from miniapp.videos.selectors import video_published_or_404


def _comment_or_404(comment_id: int):
    comment = comments.comment_visible(comment_id)
    if comment is None:
        raise Http404(_("This comment does not exist or was removed."))
    return comment


class CommentListApi(APIView):
    """GET: a page of a video's comments, signed out too: the pinned one first, then the newest,
    each with its replies (oldest first). POST: comment on it, or reply to one of its comments
    with `reply_to`. Signed in, not banned, at most COMMENT_RATE (shared with live rooms)."""

    def get_permissions(self):
        return [AllowAny()] if self.request.method == "GET" else [IsAuthenticated(), NotBanned()]

    def get_throttles(self):
        return [] if self.request.method == "GET" else [CommentRateThrottle()]

    class InputSerializer(serializers.Serializer):
        text = serializers.CharField(max_length=1000, allow_blank=True, trim_whitespace=False)
        reply_to = IdField(required=False, allow_null=True)

    class FilterSerializer(serializers.Serializer):
        before = IdField(required=False, help_text="the previous page's `next`")

    @extend_schema(
        parameters=[FilterSerializer],
        responses=inline_serializer(
            "CommentPage",
            {
                "comments": serializers.ListField(child=serializers.DictField()),
                "count": serializers.IntegerField(help_text="comments and replies standing"),
                "video_author": serializers.IntegerField(help_text="who may pin and delete any of them"),
                "next": serializers.IntegerField(allow_null=True),
            },
        ),
    )
    def get(self, request, video_id: int):
        video = video_published_or_404(video_id)
        filters = self.FilterSerializer(data=request.query_params.dict())  # `?before=` is no id either
        if not filters.is_valid():
            raise ValidationError({"detail": _("before must be a comment id: a whole number.")})
        page, next_before = comments.comments_page(video=video, before=filters.validated_data.get("before"))
        return Response(
            {"comments": page, "count": video.comment_count, "video_author": video.author_id, "next": next_before}
        )

    @extend_schema(
        request=InputSerializer, responses={201: inline_serializer("Comment", {"id": serializers.IntegerField()})}
    )
    def post(self, request, video_id: int):
        video = video_published_or_404(video_id)
        data = self.InputSerializer(data=request.data)
        if not data.is_valid():
            raise ValidationError(
                {"detail": _("Send the comment as `text`, and `reply_to` as a comment id."), **data.errors}
            )
        reply_to = None
        if data.validated_data.get("reply_to"):
            reply_to = comments.comment_for_video(video_id=video.pk, comment_id=data.validated_data["reply_to"])
            if reply_to is None:
                raise ValidationError({"detail": _("The comment you reply to was removed."), "code": "reply_gone"})
        try:
            comment = comments.comment_create(
                user=request.user, video=video, text=data.validated_data["text"], reply_to=reply_to
            )
        except comments.ReplyGone as gone:
            raise ValidationError({"detail": gone.messages[0], "code": "reply_gone"}) from gone
        except DjangoValidationError as error:
            raise ValidationError({"detail": error.messages[0]}) from error
        return Response(comments.comment_body(comment), status=status.HTTP_201_CREATED)


class CommentApi(APIView):
    """DELETE: its author or the video's author deletes a comment (with its replies), from every
    open sheet and from friends' 好友动态."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, comment_id: int):
        comment = _comment_or_404(comment_id)
        if not comments.may_remove(request.user, comment):
            raise PermissionDenied(_("Only its author or the video's author can delete a comment."))
        comments.comment_remove(comment=comment)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CommentPinApi(APIView):
    """POST `{"pinned": true|false}`: the video's author pins a comment at the top of the sheet
    (one a video: the one before is unpinned), or unpins it."""

    permission_classes = [IsAuthenticated, NotBanned]

    class InputSerializer(serializers.Serializer):
        pinned = serializers.BooleanField()

    @extend_schema(
        request=InputSerializer, responses={200: inline_serializer("Pinned", {"pinned": serializers.BooleanField()})}
    )
    def post(self, request, comment_id: int):
        comment = _comment_or_404(comment_id)
        if request.user.pk != comment.video.author_id:
            raise PermissionDenied(_("Only the video's author can pin a comment."))
        data = self.InputSerializer(data=request.data)
        if not data.is_valid():
            raise ValidationError({"detail": _("Send `pinned`: true or false.")})
        try:
            comments.comment_pin(comment=comment, pinned=data.validated_data["pinned"])
        except DjangoValidationError as error:
            raise ValidationError({"detail": error.messages[0]}) from error
        return Response({"pinned": comment.pinned})
