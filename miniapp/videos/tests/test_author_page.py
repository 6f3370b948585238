import pytest

from miniapp.videos.models import Video
from tests.fixtures.factories import make_video

pytestmark = pytest.mark.django_db


def test_an_author_page_opens_signed_out_with_published_videos_and_likes_received(client, users):
    make_video(users["bob"], title="收麦子", like_count=12000)
    make_video(users["bob"], title="赶集", like_count=345)
    make_video(users["bob"], title="藏起来的", status=Video.Status.HIDDEN, like_count=99999)
    make_video(users["carol"], title="别人的")
    response = client.get(f"/u/{users['bob'].pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "收麦子" in page and "赶集" in page
    assert "藏起来的" not in page and "别人的" not in page
    assert "<b>2</b> 个作品" in page
    assert "<b>1.2万</b> 获赞" in page  # 12,345: the hidden video's likes are not counted
    assert "author-friend" not in page  # signed out: nobody's friend


def test_a_friend_is_marked_and_a_stranger_is_not(client, users):
    client.force_login(users["alice"])
    assert "author-friend" in client.get(f"/u/{users['bob'].pk}/").content.decode()  # alice and bob are friends
    assert "author-friend" not in client.get(f"/u/{users['erin'].pk}/").content.decode()  # erin is nobody's


def test_my_own_page_links_to_my_profile_and_shows_only_what_others_see(client, users):
    make_video(users["alice"], title="我的隐藏", status=Video.Status.HIDDEN)
    client.force_login(users["alice"])
    page = client.get(f"/u/{users['alice'].pk}/").content.decode()
    assert 'href="/me/"' in page and "我的隐藏" not in page


def test_an_unknown_or_deactivated_user_is_a_404(client, users):
    assert client.get("/u/424242/").status_code == 404
    users["bob"].is_active = False
    users["bob"].save(update_fields=["is_active"])
    assert client.get(f"/u/{users['bob'].pk}/").status_code == 404


def test_names_and_titles_are_escaped(client, users):
    users["bob"].display_name = "<b>bob</b>"
    users["bob"].save(update_fields=["display_name"])
    make_video(users["bob"], title="<script>alert(1)</script>")
    page = client.get(f"/u/{users['bob'].pk}/").content.decode()
    assert "<script>alert(1)" not in page and "<b>bob</b>" not in page


def test_the_feed_links_each_author_name_and_avatar_to_their_page(client, users):
    make_video(users["bob"])
    page = client.get("/").content.decode()
    assert page.count(f'href="/u/{users["bob"].pk}/"') == 2
    assert 'data-url-author="/u/0/"' in page


def test_in_english_one_like_is_singular(client, users):
    make_video(users["bob"], like_count=1)
    page = client.get(f"/u/{users['bob'].pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "<b>1</b> like received" in page and "<b>1</b> video<" in page
