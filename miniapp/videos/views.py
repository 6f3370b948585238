import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_POST

from miniapp.accounts.selectors import are_friends
from miniapp.engagement.arrivals import arrival_remember
from miniapp.engagement.cards import feed_page
from miniapp.engagement.selectors import share_for_link
from miniapp.engagement.visitors import gives_visitor_id
from miniapp.lib.site import absolute_url, on_this_site
from miniapp.lives.selectors import lives_listed
from miniapp.moderation.models import Report
from miniapp.videos.models import Video
from miniapp.videos.selectors import video_get_for_viewer, video_or_404, videos_by_author
from miniapp.videos.services import video_card_ensure

LIKE_AFTER_SIGN_IN = "like_after_sign_in"
# How long a signed-out tap on ♥ waits for the sign-in it started (`like_after_sign_in`).
LIKE_WISH_SECONDS = 15 * 60
LIVES_SHOWN = 12


def _feed_page(request, *, first: Video | None = None, extra: dict | None = None):
    """The vertical feed, first page rendered on the server; the script loads the rest from the API.

    The cards' media and the next page's URL are loaded from the origin the page was opened
    at (`on_this_site`); what other sites read (Open Graph tags) stays on SITE_URL.
    """
    cards, next_url = feed_page(request, first=first)
    wish = request.session.pop(LIKE_AFTER_SIGN_IN, None)  # the first feed page shown uses it or drops it
    local = [
        {**card, "video_url": on_this_site(card["video_url"]), "poster_url": on_this_site(card["poster_url"])}
        for card in cards
    ]
    context = {
        "cards": local,
        # Lives on air, friends' and group mates' first: a row of red-ringed avatars over the feed.
        "lives": list(lives_listed(request.user, on_air=True)[:LIVES_SHOWN]),
        "next_url": on_this_site(next_url or ""),
        "site_url": settings.SITE_URL,
        "first": first,
        "tab": "home",
        "report_reasons": Report.Reason.choices,
        "like_first": first is not None and _wished(request, wish, first),
        **(extra or {}),
    }
    return render(request, "videos/feed.html", context)


def _wished(request, wish, video: Video) -> bool:
    """Whether this page should like `video` at once: its ♥ was tapped signed out, and the
    viewer is back from the sign-in that tap started, signed in, within LIKE_WISH_SECONDS.
    Back signed out (the sign-in refused or abandoned), the wish is gone: it must not like the
    video at some later sign-in."""
    if not request.user.is_authenticated or not isinstance(wish, dict):
        return False
    return wish.get("video") == video.pk and 0 <= time.time() - wish.get("at", 0) <= LIKE_WISH_SECONDS


@ensure_csrf_cookie  # the like button sends it back in X-CSRFToken
@gives_visitor_id  # a view reported signed out counts with it
@require_GET
def home(request):
    return _feed_page(request)


@ensure_csrf_cookie
@gives_visitor_id
@require_GET
def detail(request, video_id: int):
    """One video, straight from a shared link (signed out too), then the feed continues.

    `?s=<token>` names the share link it came through: its note is shown, and the view,
    like or re-share that follows is credited to it. A token that does not belong to this
    video is ignored, as is anything else in the query (WeChat adds `from=`, `isappinstalled=`).
    """
    video = video_get_for_viewer(video_id=video_id, viewer=request.user)
    if video is None:
        return render(request, "videos/unavailable.html", status=404)
    share = share_for_link(token=request.GET.get("s", ""), video_id=video.pk) if video.is_published else None
    if share is not None:
        arrival_remember(request, share)
    video_card_ensure(video)
    canonical = reverse("video-detail", args=[video.pk])
    if share is not None:
        canonical += "?" + urlencode({"s": share.token})
    extra = {
        "share": share,
        "canonical_url": absolute_url(canonical),
        "og_image": absolute_url(video.card.url if video.card else video.poster.url),
        "og_video": absolute_url(video.file.url),
    }
    return _feed_page(request, first=video, extra=extra)


@require_POST
def like_after_sign_in(request, video_id: int):
    """A signed-out tap on ♥: remember it in the session, so the video page likes it once the
    viewer is back from signing in. A POST with the CSRF token, not a query parameter: a link
    someone else made must not be able to like anything for anyone."""
    if request.user.is_authenticated:
        return JsonResponse({"detail": _("You are signed in: like the video directly.")}, status=409)
    try:
        video = video_or_404(video_get_for_viewer(video_id=video_id, viewer=request.user))
    except Http404 as unavailable:  # the API's 404, as JSON: the page's script reads it
        return JsonResponse({"detail": str(unavailable)}, status=404)
    request.session[LIKE_AFTER_SIGN_IN] = {"video": video.pk, "at": time.time()}
    return JsonResponse({"liked_after_sign_in": video.pk})


@login_required
@require_GET
def upload(request):
    context = {"max_mb": settings.VIDEO_MAX_BYTES // (1024 * 1024), "max_seconds": settings.VIDEO_MAX_SECONDS}
    return render(request, "videos/upload.html", context)


@require_GET
def author(request, user_id: int):
    """An author's page: their published videos, the likes those received and, for a friend,
    "好友". It opens signed out too: a shared video's author is one tap from it."""
    person = get_object_or_404(get_user_model(), pk=user_id, is_active=True)
    videos = list(videos_by_author(author=person, viewer=request.user).filter(status=Video.Status.PUBLISHED))
    context = {
        "person": person,
        "videos": videos,
        "likes_received": sum(video.like_count for video in videos),
        "is_me": request.user == person,
        "is_friend": request.user.is_authenticated and are_friends(request.user.pk, person.pk),
    }
    return render(request, "videos/author.html", context)
