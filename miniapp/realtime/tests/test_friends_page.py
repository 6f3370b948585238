"""好友动态's entries as the page renders them: a title in 《》 in Chinese, in quotes in English."""

import pytest

from miniapp.engagement import services
from tests.fixtures.factories import make_video
from tests.fixtures.personas import english, signed_in_client

pytestmark = pytest.mark.django_db


def test_an_entry_marks_the_title_as_its_language_does(users):
    video = make_video(users["carol"], title="老王的葡萄")
    services.like_create(user=users["bob"], video=video)  # alice's friend
    alice = signed_in_client(users["alice"])
    assert "bob 赞了《老王的葡萄》" in alice.get("/friends/").content.decode()
    assert "bob liked “老王的葡萄”" in english(alice).get("/friends/").content.decode()


def test_a_page_names_the_shard_of_its_users_socket(users, client, settings):
    settings.REALTIME_SHARDS = 4
    alice = users["alice"]
    page = signed_in_client(alice).get("/friends/").content.decode()
    assert f'data-shard="{alice.pk % 4}"' in page
    assert 'data-shard=""' in client.get("/").content.decode()  # signed out: no socket of its own
