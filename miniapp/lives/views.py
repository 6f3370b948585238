import io
import re
from pathlib import Path

import segno
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_safe

from miniapp.accounts.models import Group
from miniapp.lib.site import absolute_url
from miniapp.lives.bodies import live_body
from miniapp.lives.comments import room_moderator
from miniapp.lives.models import Live
from miniapp.lives.selectors import live_or_404
from miniapp.moderation.models import Report
from miniapp.videos.media import accel_redirect, not_found
from miniapp.videos.models import Video

# A live's files: its playlist, which changes every segment (never kept: a player asks again
# each second), and its segments, which never change once written.
PLAYLIST_TYPE, SEGMENT_TYPE = "application/vnd.apple.mpegurl", "video/mp2t"
PLAYLIST_CACHE = "no-cache, max-age=0"
SEGMENT_CACHE = "public, max-age=600, immutable"
_FILE = re.compile(r"(index\.m3u8|seg-\d{1,9}\.ts)")


@ensure_csrf_cookie
@require_GET
def live_page(request, live_id: int):
    """A live room: full screen like the feed, for anyone with the link."""
    live = live_or_404(live_id)
    body = live_body(live)
    context = {
        "live": live,
        "live_json": body,
        "share_url": absolute_url(body["page_url"]),
        "report_reasons": Report.Reason.choices,
        "tab": "home",
        "room_moderator": room_moderator(request.user, live),
    }
    return render(request, "lives/live.html", context)


@require_GET
@cache_control(public=True, max_age=86400)
def live_qr(request, live_id: int):
    """A QR code (SVG) of a live room's link, for its share sheet: scanned in WeChat, it opens the room."""
    live = live_or_404(live_id)
    qr = segno.make(absolute_url(reverse("live", args=[live.pk])), error="m")
    out = io.BytesIO()
    qr.save(out, kind="svg", scale=6, border=2, dark="#111111", light="#ffffff", xmldecl=False, svgns=True)
    return HttpResponse(out.getvalue(), content_type="image/svg+xml")


@login_required
@ensure_csrf_cookie
@require_GET
def live_new(request):
    """Go live: a title, my camera (previewed) or one of my videos played as the live, and groups to announce it in."""
    videos = Video.objects.filter(author=request.user, status=Video.Status.PUBLISHED).order_by("-created")[:50]
    groups = Group.objects.filter(memberships__user=request.user).order_by("name")
    return render(request, "lives/new.html", {"videos": videos, "groups": groups, "tab": "me"})


@require_safe
def media(request, key: str, name: str):
    """A live's playlist or segment, from the shared MEDIA_ROOT whoever wrote it. Nothing for a
    live not yet on air (or not at all)."""
    if not _FILE.fullmatch(name):
        return not_found()
    live = Live.objects.filter(key=key).exclude(status=Live.Status.SCHEDULED).only("key").first()
    if live is None:
        return not_found()
    path = f"{live.folder}/{name}"
    playlist = name.endswith(".m3u8")
    full = Path(settings.MEDIA_ROOT) / path
    if not full.is_file():
        return not_found()
    if settings.MEDIA_ACCEL_REDIRECT:
        response = accel_redirect(path, taken_down=False)
    else:
        try:
            response = FileResponse(full.open("rb"), content_type=PLAYLIST_TYPE if playlist else SEGMENT_TYPE)
        except FileNotFoundError:  # the window moved on between the check and the open
            raise Http404 from None
    response["Cache-Control"] = PLAYLIST_CACHE if playlist else SEGMENT_CACHE
    return response
