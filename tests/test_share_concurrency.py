"""Simultaneous plain shares over real HTTP: one link, one share counted.

A plain link (no friends, no note) is made once per sharer and video. Fifteen taps at
once on PostgreSQL made seven links and counted seven shares when that was a read
before the insert; the `share_plain_once` constraint now decides. CI runs this on
SQLite (whose IMMEDIATE transactions queue the writers) and on PostgreSQL.
"""

from concurrent.futures import ThreadPoolExecutor

import pytest

from miniapp.engagement.models import ShareLink
from miniapp.videos.models import Video
from tests.fixtures.factories import make_video
from tests.fixtures.personas import api_session

pytestmark = pytest.mark.django_db(transaction=True)

TAPS = 15


def test_plain_shares_sent_at_once_make_one_link_and_count_once(live_server, users, settings):
    settings.SHARE_RATE = "1000/minute"
    video = make_video(users["erin"])
    session = api_session(users["alice"])
    url = f"{live_server.url}/api/videos/{video.pk}/shares/"

    def share(_):
        response = session.post(url, json={}, headers={"Referer": live_server.url}, timeout=60)
        return response.status_code, response.json().get("token")

    with ThreadPoolExecutor(max_workers=TAPS) as pool:
        answers = list(pool.map(share, range(TAPS)))
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] * (TAPS - 1) + [201], answers
    assert ShareLink.objects.filter(video=video).count() == 1
    assert {token for _, token in answers} == {ShareLink.objects.get(video=video).token}
    assert Video.objects.get(pk=video.pk).share_count == 1
