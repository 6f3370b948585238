"""`lib.returning.update_returning`: an update that answers the rows' new values in the same
statement (SQLite here, PostgreSQL in CI's second pass)."""

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from miniapp.accounts.models import User
from miniapp.lib.returning import update_returning
from miniapp.videos.models import Video
from tests.fixtures.factories import make_video


@pytest.fixture
def videos(db) -> list[Video]:
    author = User.objects.create(username="alice")
    return [make_video(author, like_count=n, share_count=10 * n) for n in (1, 2, 3)]


def test_answers_the_new_values_in_one_statement(videos):
    first = videos[0]
    with CaptureQueriesContext(connection) as queries:
        rows = update_returning(
            Video.objects.filter(pk=first.pk), ["like_count", "share_count"], like_count=F("like_count") + 5
        )
    assert rows == [(6, 10)]
    assert len(queries) == 1 and "RETURNING" in queries[0]["sql"]
    first.refresh_from_db()
    assert (first.like_count, first.share_count) == (6, 10)


def test_every_updated_row_answers_and_no_other_changes(videos):
    rows = update_returning(Video.objects.filter(like_count__gte=2), ["id", "share_count"], share_count=0)
    assert sorted(rows) == [(videos[1].pk, 0), (videos[2].pk, 0)]
    assert Video.objects.get(pk=videos[0].pk).share_count == 10


def test_no_row_matched_answers_none(videos):
    assert update_returning(Video.objects.filter(pk=-1), ["like_count"], like_count=1) == []
    assert update_returning(Video.objects.filter(pk__in=[]), ["like_count"], like_count=1) == []


def test_a_sliced_queryset_is_refused_as_update_refuses_it(videos):
    with pytest.raises(TypeError):
        update_returning(Video.objects.all()[:1], ["like_count"], like_count=1)
