"""A live as the API, the pages and the events show it."""

from django.conf import settings
from django.urls import reverse

from miniapp.accounts.serializers import user_body
from miniapp.lives.models import Live
from miniapp.lives.room import viewers_of


def hls_url(live: Live) -> str | None:
    """Its playlist while on air (and after, for a player still at it: it ends with ENDLIST)."""
    if live.status == Live.Status.SCHEDULED:
        return None
    return f"{settings.MEDIA_URL}{live.folder}/index.m3u8"


def live_body(live: Live) -> dict:
    replay = live.replay
    return {
        "id": live.pk,
        "title": live.title,
        "host": user_body(live.host),
        "status": live.status,
        "source": live.source,
        "starts_at": live.starts_at,
        "started": live.started,
        "ended": live.ended,
        "end_reason": live.end_reason,
        "paused": live.paused,
        "keep_replay": live.keep_replay,
        "hls_url": hls_url(live),
        "page_url": reverse("live", args=[live.pk]),
        "replay": (
            {
                "id": replay.pk,
                "title": replay.title,
                "poster_url": replay.page_poster.url,
                "url": reverse("video-detail", args=[replay.pk]),
            }
            if replay is not None and replay.is_published
            else None
        ),  # fmt: skip
        "near": getattr(live, "near", False),  # the host is a friend or in one of my groups (lives_listed)
        # The room's viewers (`lives.room`): annotated by lists (`lives_listed`), else read here.
        "viewers": live.viewers if hasattr(live, "viewers") else viewers_of(live.pk),
        "likes": live.likes,
    }
