from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from miniapp.accounts.provider import SIGN_IN_CANCELLED_TO, signin_redirect, stays_on_site
from miniapp.accounts.selectors import friends_of
from miniapp.engagement.services import user_set_share_likes
from miniapp.videos.selectors import videos_by_author


def _safe_next(request, default: str = "/") -> str:
    """The `next` parameter if it stays on this site, else `default` (no open redirect)."""
    target = request.GET.get("next") or request.POST.get("next") or ""
    if stays_on_site(request, target):
        return target
    return default


@require_http_methods(["GET", "POST"])
def login(request):
    """Start the provider sign-in at once; `login_hint` is passed on to the provider.

    allauth's own provider URL wants a POST (login CSRF); this view starts the
    same flow with a fresh state bound to this browser's session, and only ever
    returns to a path on this site. A GET never switches a signed-in user to another
    identity: a link from anywhere could (login CSRF). It asks first, on a page whose
    button POSTs here with the CSRF token.
    """
    next_url = _safe_next(request)
    # Passed on whole: the provider says which nicknames it takes (cut or trimmed, "alice "
    # would name alice).
    hint = (request.POST if request.method == "POST" else request.GET).get("login_hint", "")
    if request.method == "GET" and request.user.is_authenticated:
        if not hint or hint == request.user.display_name:
            return redirect(next_url)
        return render(request, "accounts/switch.html", {"hint": hint, "next": next_url})
    request.session[SIGN_IN_CANCELLED_TO] = _left_from(request)
    return signin_redirect(request, next_url=next_url, login_hint=hint)


def _left_from(request) -> str:
    """The page of this site the sign-in was started from (the Referer: the video whose like
    asked for it, the page that linked to one for the signed-in), for a cancelled sign-in to go
    back to; else "" (home). Not `next`: a page for the signed-in would ask to sign in again."""
    referer = request.headers.get("Referer", "")
    if not stays_on_site(request, referer):
        return ""
    parts = urlsplit(referer)
    if parts.path.startswith((reverse("login"), "/mockwx/", "/accounts/")):
        return ""
    return parts.path + (f"?{parts.query}" if parts.query else "")


@require_POST
def logout(request):
    auth_logout(request)
    messages.info(request, _("You have signed out."))
    return redirect(_safe_next(request))


@login_required
@require_POST
def settings_update(request):
    """The "show my likes to friends" switch on /me/."""
    share_likes = request.POST.get("share_likes") == "on"
    user_set_share_likes(user=request.user, share_likes=share_likes)
    if share_likes:
        said = _("Friends will see your likes again.")
    else:
        said = _("Your likes are now private; friends no longer see them.")
    if request.headers.get("Accept") == "application/json":  # the switch, saved as it is flipped (me.js)
        return JsonResponse({"share_likes": share_likes, "detail": said})
    messages.success(request, said)
    return redirect("me")


@login_required
def me(request):
    videos = videos_by_author(author=request.user, viewer=request.user)
    context = {
        "friends": friends_of(request.user),
        "videos": videos,
        "likes_received": sum(video.like_count for video in videos),
        "site_url": settings.SITE_URL,
        "provider_name": settings.OIDC_PROVIDER_NAME,
        "tab": "me",
    }
    return render(request, "accounts/me.html", context)
