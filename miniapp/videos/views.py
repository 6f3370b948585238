from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET
from rest_framework.request import Request

from miniapp.videos.apis import FeedPagination, video_cards
from miniapp.videos.models import Video
from miniapp.videos.selectors import video_feed, video_get_for_viewer


def _feed_page(request, *, first: Video | None = None):
    """The vertical feed, first page rendered on the server; the script loads the rest."""
    paginator = FeedPagination()
    feed = video_feed(viewer=request.user)
    if first is not None:
        feed = feed.exclude(pk=first.pk)
    videos = paginator.paginate_queryset(feed, Request(request))
    if first is not None:
        videos = [first, *videos]
    # The next page comes from the API, which continues the same cursor.
    paginator.base_url = request.build_absolute_uri(reverse("api-videos"))
    context = {
        "cards": video_cards(videos, request=request),
        "next_url": paginator.get_next_link() or "",
        "first": first,
        "tab": "home",
    }
    return render(request, "videos/feed.html", context)


@ensure_csrf_cookie  # the like button sends it back in X-CSRFToken
@require_GET
def home(request):
    return _feed_page(request)


@ensure_csrf_cookie
@require_GET
def detail(request, video_id: int):
    """One video, straight from a shared link (signed out too), then the feed continues."""
    video = video_get_for_viewer(video_id=video_id, viewer=request.user)
    if video is None:
        return render(request, "videos/unavailable.html", status=404)
    return _feed_page(request, first=video)


@login_required
@require_GET
def upload(request):
    context = {"max_mb": settings.VIDEO_MAX_BYTES // (1024 * 1024), "max_seconds": settings.VIDEO_MAX_SECONDS}
    return render(request, "videos/upload.html", context)
