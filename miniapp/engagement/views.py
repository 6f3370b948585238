import io

import segno
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET

from miniapp.accounts.groups import groups_refresh
from miniapp.accounts.selectors import group_for_member
from miniapp.engagement.poster import poster_etag, poster_jpeg
from miniapp.engagement.selectors import (
    UNREAD_CAP,
    group_detail,
    group_posts_page,
    groups_of,
    posts_page_body,
    share_for_link,
    share_url,
)
from miniapp.engagement.stats import likes_chart, video_get_for_stats, video_share_stats
from miniapp.lib.site import absolute_url
from miniapp.videos.selectors import video_get_for_viewer


def _shared_video(request, video_id: int):
    """The video a share sheet offers, the share its `?s=` names (None: no such share, which is
    no error) and the link both make; 404 unless the video is published, staff or not."""
    video = video_get_for_viewer(video_id=video_id, viewer=request.user)
    if video is None or not video.is_published:
        raise Http404("No such video.")
    share = share_for_link(token=request.GET.get("s", ""), video_id=video.pk)
    url = share_url(share) if share is not None else absolute_url(reverse("video-detail", args=[video.pk]))
    return video, share, url


@require_GET
@cache_control(public=True, max_age=86400)
def share_qr(request, video_id: int):
    """A QR code (SVG) of a video's link, with `?s=<token>` of a share link, for the share sheet."""
    _, _, url = _shared_video(request, video_id)
    qr = segno.make(url, error="m")
    out = io.BytesIO()
    qr.save(out, kind="svg", scale=6, border=2, dark="#111111", light="#ffffff", xmldecl=False, svgns=True)
    return HttpResponse(out.getvalue(), content_type="image/svg+xml")


POSTER_CACHE_SECONDS = 3600


@require_GET
def share_poster(request, video_id: int):
    """The share poster (JPEG, `engagement.poster`) of a video's link, with `?s=<token>` of a
    share link: its sharer and note on it; without one, the product's name.

    It shows the title and the sharer's name, which may change, and a hidden video must stop
    showing, so caches keep it as they keep media: a shared cache asks again after 60 s and
    gets a 304 by its ETag, drawn only when something on it changed. It is in the request's
    language: `Vary` says so (the language comes from the cookie or `Accept-Language`).

    Drawing one takes 70-150 ms of CPU: the bytes are kept in the cache under the ETag (what is
    on the poster), so a poster is drawn once however many ask for it, whatever else their
    query string or cookies hold.
    """
    video, share, url = _shared_video(request, video_id)
    tag = poster_etag(video=video, share=share, url=url)
    etag = f'"{tag}"'
    response = get_conditional_response(request, etag=etag)
    if response is None:
        key = f"share-poster:{tag}"
        body = cache.get(key)
        if body is None:
            body = poster_jpeg(video=video, share=share, url=url)
            cache.set(key, body, POSTER_CACHE_SECONDS)
        response = HttpResponse(body, content_type="image/jpeg")
    response["ETag"] = etag
    response["Cache-Control"] = "public, max-age=3600, s-maxage=60, must-revalidate"
    patch_vary_headers(response, ("Accept-Language", "Cookie"))
    return response


@login_required
@require_GET
def video_stats(request, video_id: int):
    """The share cascade of one of my videos: numbers, likes over time, the best sharers."""
    video = video_get_for_stats(video_id=video_id, user=request.user)
    if video is None:
        return render(request, "videos/unavailable.html", status=404)
    numbers = video_share_stats(video)
    context = {"video": video, "stats": numbers, "chart": likes_chart(numbers["likes_over_time"]), "tab": "me"}
    return render(request, "engagement/stats.html", context)


@login_required
@ensure_csrf_cookie
@require_GET
def groups_page(request):
    """社群: my groups, the newest post first, with unread badges."""
    groups_refresh(request, user=request.user)
    groups = groups_of(user_id=request.user.pk)
    data = {"groups": groups, "unread": min(sum(g["unread"] for g in groups), UNREAD_CAP)}
    return render(request, "engagement/groups.html", {"groups": groups, "groups_json": data, "tab": "groups"})


@login_required
@ensure_csrf_cookie
@require_GET
def group_page(request, group_id: int):
    """One group: its posts like a chat of cards, the newest at the bottom, new ones live."""
    group = group_for_member(group_id=group_id, user_id=request.user.pk)
    if group is None:
        raise Http404("No such group.")
    detail = group_detail(group=group, user_id=request.user.pk)
    posts, more = group_posts_page(group_id=group.pk, limit=settings.GROUP_PAGE_SIZE)
    page = posts_page_body(reverse("api-group-posts", args=[group.pk]), posts, more)
    context = {"group": detail, "group_json": detail, "page": page, "page_json": page, "tab": "groups"}
    return render(request, "engagement/group.html", context)
