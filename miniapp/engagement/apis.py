from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from miniapp.accounts.groups import groups_refresh
from miniapp.accounts.models import Group, User
from miniapp.accounts.selectors import friend_ids_of, group_for_member, groups_of_member
from miniapp.accounts.serializers import UserOutputSerializer
from miniapp.engagement import comments, services, stats
from miniapp.engagement.arrivals import arrival_share
from miniapp.engagement.models import NOTE_MAX
from miniapp.engagement.selectors import (
    UNREAD_CAP,
    activity_latest,
    activity_replay,
    group_detail,
    group_posts_page,
    groups_of,
    posts_page_body,
    share_url,
)
from miniapp.engagement.visitors import visitor_id
from miniapp.lib.api import TextField
from miniapp.lib.site import absolute_url
from miniapp.lib.text import validate_multiline
from miniapp.moderation.limits import (
    CommentRateThrottle,
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


class ActivityApi(APIView):
    """Friends' activity, oldest first.

    With `after=<id>`: every log entry after that position (activities and
    retractions), a page at a time, for catching up. Without it: the newest
    entries still standing, and `last_id` to resume from.
    """

    class FilterSerializer(serializers.Serializer):
        after = serializers.IntegerField(min_value=0, required=False, help_text="the last log id the client has")
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
        filters = self.FilterSerializer(data=request.query_params)
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
        to = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, default=list)
        groups = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, default=list)
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


class PostDocSerializer(serializers.Serializer):
    """A group's post (documentation: the selectors answer it as it is)."""

    id = serializers.IntegerField()
    group = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=["share", "live"])
    author = UserOutputSerializer()
    video = serializers.DictField(allow_null=True, help_text="id, title, poster_url, like_count, duration")
    live = serializers.DictField(allow_null=True, help_text="with the live rooms")
    note = serializers.CharField()
    url = serializers.CharField(help_text="the video, with the post's share credited")
    views = serializers.IntegerField(help_text="people who watched through this post")
    created = serializers.DateTimeField()


class GroupDocSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    avatar = serializers.CharField()
    url = serializers.CharField()
    member_count = serializers.IntegerField()
    unread = serializers.IntegerField(help_text="exact to 99; 100 means over 99")
    last_post = PostDocSerializer(allow_null=True, required=False)


class GroupDetailDocSerializer(GroupDocSerializer):
    members = UserOutputSerializer(many=True)
    read_up_to = serializers.IntegerField()


class PostPageDocSerializer(serializers.Serializer):
    results = PostDocSerializer(many=True)
    last_id = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)


def member_group_or_404(request, group_id: int) -> Group:
    """The group, if the signed-in user is in it; anyone else is told it does not exist."""
    group = group_for_member(group_id=group_id, user_id=request.user.pk)
    if group is None:
        raise Http404(_("No such group."))
    return group


class GroupListApi(APIView):
    """My groups (社群), the one with the newest post first, each with my unread count and its last
    post, and my unread total. Counts stop at 100, meaning "over 99" ("99+"). Reads my groups from
    the provider again first when GROUPS_SYNC_SECONDS have passed since the last time."""

    @extend_schema(
        operation_id="groups_list",
        responses=inline_serializer(
            "GroupList", {"groups": GroupDocSerializer(many=True), "unread": serializers.IntegerField()}
        ),
    )
    def get(self, request):
        groups_refresh(request, user=request.user)
        groups = groups_of(user_id=request.user.pk)
        return Response({"groups": groups, "unread": min(sum(g["unread"] for g in groups), UNREAD_CAP)})


class GroupDetailApi(APIView):
    """One of my groups, with its members and my read position."""

    @extend_schema(responses=GroupDetailDocSerializer)
    def get(self, request, group_id: int):
        group = member_group_or_404(request, group_id)
        return Response(group_detail(group=group, user_id=request.user.pk))


class GroupPostsApi(APIView):
    """A group's posts, oldest first: with `after=<id>` those after it (paging forward, `next`);
    with `before=<id>` the page before it; with neither the newest page (`previous` goes back)."""

    class FilterSerializer(serializers.Serializer):
        after = serializers.IntegerField(min_value=0, required=False, help_text="the last post the client has")
        before = serializers.IntegerField(min_value=1, required=False, help_text="the oldest post the client has")

    @extend_schema(parameters=[FilterSerializer], responses=PostPageDocSerializer)
    def get(self, request, group_id: int):
        group = member_group_or_404(request, group_id)
        filters = self.FilterSerializer(data=request.query_params)
        if not filters.is_valid():
            raise ValidationError({"detail": _("after and before must be post ids: whole numbers.")})
        after, before = filters.validated_data.get("after"), filters.validated_data.get("before")
        if after is not None and before is not None:
            raise ValidationError({"detail": _("Send after or before, not both.")})
        page, more = group_posts_page(group_id=group.pk, after=after, before=before, limit=settings.GROUP_PAGE_SIZE)
        return Response(posts_page_body(request.path, page, more, after=after, before=before))


class GroupReadApi(APIView):
    """I have read the group up to post `last_id`: my unread count there and in all my groups.
    The position never moves back; my other open pages clear the badge."""

    class InputSerializer(serializers.Serializer):
        last_id = serializers.IntegerField(min_value=0)

    class OutputSerializer(serializers.Serializer):
        unread = serializers.IntegerField()
        total_unread = serializers.IntegerField()

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request, group_id: int):
        group = member_group_or_404(request, group_id)
        data = self.InputSerializer(data=request.data)
        if not data.is_valid():
            raise ValidationError({"detail": _("Send the id of the last post read as `last_id`.")})
        unread, total = services.group_read(user=request.user, group=group, last_id=data.validated_data["last_id"])
        return Response(self.OutputSerializer({"unread": unread, "total_unread": total}).data)


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
        reply_to = serializers.IntegerField(required=False, allow_null=True, min_value=1)

    class FilterSerializer(serializers.Serializer):
        before = serializers.IntegerField(min_value=1, required=False, help_text="the previous page's `next`")

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
        filters = self.FilterSerializer(data=request.query_params)
        if not filters.is_valid() or request.query_params.get("before") == "":
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
