"""A video as the feed shows it: the video with the viewer's own like, their friends' likes and
the groups of theirs it was shared into (a "card"), and a page of the ranked feed as cards. The
API's video responses and the HTML pages' first screen both use it."""

from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from miniapp.accounts.serializers import UserOutputSerializer
from miniapp.engagement import ranking
from miniapp.engagement.selectors import friend_likers, groups_shared_in, liked_video_ids
from miniapp.lib.site import absolute_url
from miniapp.videos.models import Video

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
    comment_count = serializers.IntegerField()
    liked_by_me = serializers.SerializerMethodField()
    friends_who_liked = serializers.SerializerMethodField()
    friends_liked_count = serializers.SerializerMethodField()
    shared_in_groups = serializers.SerializerMethodField()
    status = serializers.CharField()
    created = serializers.DateTimeField()

    def get_video_url(self, video) -> str:
        return absolute_url(video.file.url)

    def get_poster_url(self, video) -> str:
        return absolute_url(video.page_poster.url)

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

    @extend_schema_field(
        serializers.ListField(child=serializers.DictField(), help_text="my groups it was shared into: id, name")
    )
    def get_shared_in_groups(self, video) -> list[dict]:
        return self.context.get("groups_shared_in", {}).get(video.pk, [])


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
        "groups_shared_in": groups_shared_in(viewer_id=viewer_id, video_ids=ids),
    }
    return VideoOutputSerializer(videos, many=True, context=context).data
