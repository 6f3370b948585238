from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET

from miniapp.engagement.selectors import activity_latest


@login_required
@ensure_csrf_cookie
@require_GET
def friends_feed(request):
    """好友动态: the newest entries, then live ones over the socket."""
    events, last_id = activity_latest(viewer_id=request.user.pk, limit=settings.ACTIVITY_PAGE_SIZE)
    context = {"events": list(reversed(events)), "last_id": last_id, "tab": "friends"}
    return render(request, "realtime/friends.html", context)
