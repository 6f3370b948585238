"""Simultaneous likes over real HTTP: the unique constraint and the F() counter hold.

CI runs this on SQLite (WAL, IMMEDIATE transactions, busy timeout) and on PostgreSQL.
"""

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.contrib.auth import get_user_model

from miniapp.engagement.models import Like
from miniapp.videos.models import Video
from tests.fixtures.factories import make_video
from tests.fixtures.personas import api_session

pytestmark = pytest.mark.django_db(transaction=True)


def like_all(url: str, sessions: list[requests.Session], referer: str) -> list[int]:
    def like(session):
        return session.post(url, headers={"Referer": referer}, timeout=60).status_code

    with ThreadPoolExecutor(max_workers=len(sessions)) as pool:
        return list(pool.map(like, sessions))


def test_fifty_likes_by_one_user_count_once(live_server, users, settings):
    settings.LIKE_RATE = "1000/minute"
    video = make_video(users["erin"])
    session = api_session(users["alice"])
    statuses = like_all(f"{live_server.url}/api/videos/{video.pk}/like/", [session] * 50, live_server.url)
    assert statuses == [200] * 50
    assert Like.objects.filter(video=video).count() == 1
    assert Video.objects.get(pk=video.pk).like_count == 1


def test_fifty_users_liking_at_once_count_fifty(live_server, users, settings):
    video = make_video(users["erin"])
    people = get_user_model().objects.bulk_create([get_user_model()(username=f"fan{i:02d}") for i in range(50)])
    sessions = [api_session(person) for person in people]
    statuses = like_all(f"{live_server.url}/api/videos/{video.pk}/like/", sessions, live_server.url)
    assert statuses == [200] * 50
    assert Like.objects.filter(video=video).count() == 50
    assert Video.objects.get(pk=video.pk).like_count == 50
