"""The groups' APIs (社群): my groups with their unread counts, a group, its posts, read positions.
A share into groups is `apis.videos.ShareApi`'s."""

from django.conf import settings
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from miniapp.accounts.groups import groups_refresh
from miniapp.accounts.models import Group
from miniapp.accounts.selectors import group_for_member
from miniapp.accounts.serializers import UserOutputSerializer
from miniapp.engagement import services
from miniapp.engagement.selectors import (
    UNREAD_CAP,
    group_detail,
    group_posts_page,
    groups_of,
    posts_page_body,
)
from miniapp.lib.api import IdField


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
        after = IdField(min_value=0, required=False, help_text="the last post the client has")
        before = IdField(required=False, help_text="the oldest post the client has")

    @extend_schema(parameters=[FilterSerializer], responses=PostPageDocSerializer)
    def get(self, request, group_id: int):
        group = member_group_or_404(request, group_id)
        filters = self.FilterSerializer(data=request.query_params.dict())  # `?after=` is no id either
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
        last_id = IdField(min_value=0)

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
