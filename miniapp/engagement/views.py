import io

import segno
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from miniapp.engagement.selectors import share_for_link, share_url
from miniapp.engagement.stats import likes_chart, video_get_for_stats, video_share_stats
from miniapp.lib.site import absolute_url
from miniapp.videos.selectors import video_get_for_viewer


@require_GET
@cache_control(public=True, max_age=86400)
def share_qr(request, video_id: int):
    """A QR code (SVG) of a video's link, with `?s=<token>` of a share link, for the share sheet."""
    video = video_get_for_viewer(video_id=video_id, viewer=request.user)
    if video is None or not video.is_published:
        raise Http404("No such video.")
    share = share_for_link(token=request.GET.get("s", ""), video_id=video.pk)
    url = share_url(share) if share is not None else absolute_url(reverse("video-detail", args=[video.pk]))
    qr = segno.make(url, error="m")
    out = io.BytesIO()
    qr.save(out, kind="svg", scale=6, border=2, dark="#111111", light="#ffffff", xmldecl=False, svgns=True)
    return HttpResponse(out.getvalue(), content_type="image/svg+xml")


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
