import itertools

import pytest
from django.core.cache import cache
from django.utils import timezone

from miniapp.engagement.models import Like
from miniapp.videos import hotness
from miniapp.videos.models import Video

_serial = itertools.count(1)


def make_video(author, *, title: str = "", status: str = Video.Status.PUBLISHED, likes=(), **fields) -> Video:
    """A video row for feed and API tests; its files are not needed there."""
    n = next(_serial)
    created = fields.pop("created", timezone.now())
    video = Video.objects.create(
        author=author,
        title=title or f"video {n}",
        file=f"videos/t{n}/video.mp4",
        poster=f"videos/t{n}/poster.jpg",
        duration=5.0,
        size=1000,
        width=360,
        height=640,
        status=status,
        created=created,
        hot=fields.pop("hot", hotness.base(created)),
        **fields,
    )
    for user in likes:
        Like.objects.create(user=user, video=video)
    if likes:
        liked = list(Like.objects.filter(video=video).values_list("created", flat=True))
        Video.objects.filter(pk=video.pk).update(like_count=len(likes), hot=hotness.score(created, liked))
        video.refresh_from_db()
    return video


@pytest.fixture
def video_factory():
    return make_video


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Rate limits count in the cache: every test starts with none spent (uploads: 20 an hour)."""
    cache.clear()
