"""Which share link brought this browser to a video, kept in its session.

Opening `/v/<id>/?s=<token>` remembers the link for that video; a view, a like or a
re-share of the video from the same session (through a sign-in too: Django keeps the
session's data when it signs a user in) is then credited to it. Kept on the server, so
a client cannot credit a link it never came through.
"""

from miniapp.engagement.models import ShareLink

SESSION_KEY = "arrived_via"
REMEMBERED = 50  # videos per session; the oldest are forgotten first


def arrival_remember(request, share: ShareLink) -> None:
    """Note that this browser opened `share`. A sharer opening their own link is not an arrival."""
    if request.user.is_authenticated and request.user.pk == share.sharer_id:
        return
    arrivals = dict(request.session.get(SESSION_KEY, {}))
    arrivals.pop(str(share.video_id), None)
    arrivals[str(share.video_id)] = share.pk
    request.session[SESSION_KEY] = dict(list(arrivals.items())[-REMEMBERED:])


def arrival_share(request, video_id: int) -> ShareLink | None:
    """The share link this browser arrived at `video_id` through, if any (never the viewer's own)."""
    share_id = request.session.get(SESSION_KEY, {}).get(str(video_id))
    if share_id is None:
        return None
    shares = ShareLink.objects.filter(pk=share_id, video_id=video_id)
    if request.user.is_authenticated:
        shares = shares.exclude(sharer_id=request.user.pk)
    return shares.first()
