import pytest

from miniapp.videos.models import Video
from tests.fixtures.factories import make_video

pytestmark = pytest.mark.django_db


def test_home_renders_the_first_page_of_the_feed(client, users):
    videos = [make_video(users["bob"], title=f"片{i}") for i in range(3)]
    page = client.get("/").content.decode()
    assert page.count('<article class="slide" data-id="') - page.count('data-id=""') == 3
    assert "片2" in page and 'data-src="/media/videos/' in page  # the page loads media from its own origin
    assert "playsinline" in page and "muted" in page
    assert page.index(f'data-id="{videos[2].pk}"') < page.index(f'data-id="{videos[0].pk}"')


def test_a_video_link_opens_that_video_first_signed_out(client, users):
    wanted = make_video(users["bob"], title="老王收麦子")
    make_video(users["bob"], title="newer")
    response = client.get(f"/v/{wanted.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert page.index(f'data-id="{wanted.pk}"') < page.index("newer")
    assert '<meta property="og:title" content="老王收麦子">' in page


@pytest.mark.parametrize("status", [Video.Status.HIDDEN, Video.Status.REMOVED])
def test_hidden_videos_get_a_friendly_404(client, users, status):
    video = make_video(users["bob"], status=status)
    response = client.get(f"/v/{video.pk}/")
    assert response.status_code == 404
    assert "内容不可用" in response.content.decode()


def test_a_missing_video_gets_a_friendly_404(client, db):
    response = client.get("/v/424242/")
    assert response.status_code == 404
    assert "内容不可用" in response.content.decode()


def test_user_text_is_escaped(client, users):
    make_video(users["bob"], title="<script>alert(1)</script>", description="<img src=x onerror=alert(1)>")
    page = client.get("/").content.decode()
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;" in page


def test_counts_are_written_for_the_language(client, users):
    make_video(users["bob"], like_count=12345)
    assert "1.2万" in client.get("/").content.decode()
    assert "12.3K" in client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_me_lists_my_videos_including_hidden_ones(client, users):
    make_video(users["alice"], title="mine")
    make_video(users["alice"], title="my hidden one", status=Video.Status.HIDDEN)
    make_video(users["bob"], title="not mine")
    client.force_login(users["alice"])
    page = client.get("/me/").content.decode()
    assert "mine" in page and "my hidden one" in page and "not mine" not in page


def test_upload_page_needs_sign_in(client, db):
    response = client.get("/upload/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_the_language_switch_sets_english(client, db):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    page = client.get("/").content.decode()
    assert 'lang="en"' in page
    assert "中文" in page  # the way back


def test_a_link_alone_never_likes_anything(client, users):
    video = make_video(users["erin"])
    client.force_login(users["alice"])
    assert "data-like-first" not in client.get(f"/v/{video.pk}/?like=1").content.decode()


def test_a_signed_out_tap_on_like_is_applied_once_after_signing_in(users):
    from django.test import Client

    video = make_video(users["erin"])
    browser = Client(enforce_csrf_checks=True)
    browser.get(f"/v/{video.pk}/")  # the page sets the CSRF cookie
    url = f"/v/{video.pk}/like-after-sign-in/"
    assert browser.post(url).status_code == 403  # no token: a cross-site form cannot do this
    token = browser.cookies["csrftoken"].value
    assert browser.post(url, HTTP_X_CSRFTOKEN=token).status_code == 200
    browser.force_login(users["alice"])  # signing in keeps the session's data
    assert 'data-like-first="1"' in browser.get(f"/v/{video.pk}/").content.decode()
    assert "data-like-first" not in browser.get(f"/v/{video.pk}/").content.decode()  # once


@pytest.fixture
def wished(users):
    """A signed-out browser that tapped ♥ on a video (the wish kept in its session), and the video."""
    from django.test import Client

    video = make_video(users["erin"])
    browser = Client(enforce_csrf_checks=True)
    browser.get(f"/v/{video.pk}/")
    token = browser.cookies["csrftoken"].value
    assert browser.post(f"/v/{video.pk}/like-after-sign-in/", HTTP_X_CSRFTOKEN=token).status_code == 200
    return browser, video


def test_a_sign_in_refused_or_abandoned_drops_the_like_it_was_for(users, wished):
    browser, video = wished
    browser.get(f"/v/{video.pk}/")  # back signed out: 拒绝 on the consent page leads here
    browser.force_login(users["alice"])  # a later sign-in, for something else
    assert "data-like-first" not in browser.get(f"/v/{video.pk}/").content.decode()


def test_the_like_waits_for_its_sign_in_a_quarter_of_an_hour_at_most(users, wished, monkeypatch):
    from types import SimpleNamespace

    from miniapp.videos import views

    browser, video = wished
    later = views.time.time() + views.LIKE_WISH_SECONDS + 1
    monkeypatch.setattr(views, "time", SimpleNamespace(time=lambda: later))  # this module's clock only
    browser.force_login(users["alice"])
    assert "data-like-first" not in browser.get(f"/v/{video.pk}/").content.decode()


def test_the_first_feed_page_after_signing_in_takes_the_wish_whichever_it_is(users, wished):
    browser, video = wished
    browser.force_login(users["alice"])
    browser.get("/")  # the home feed, not the video: the wish is not kept for later
    assert "data-like-first" not in browser.get(f"/v/{video.pk}/").content.decode()


def test_the_like_after_sign_in_wish_is_for_signed_out_visitors_and_real_videos(client, users):
    hidden = make_video(users["erin"], status=Video.Status.HIDDEN)
    assert client.post(f"/v/{hidden.pk}/like-after-sign-in/").status_code == 404
    assert client.get(f"/v/{hidden.pk}/like-after-sign-in/").status_code == 405
    client.force_login(users["alice"])
    assert client.post(f"/v/{make_video(users['erin']).pk}/like-after-sign-in/").status_code == 409


def test_the_translation_catalog_is_revalidated_per_language(client, db):
    first = client.get("/jsi18n/")
    assert first.status_code == 200 and first["ETag"]
    assert client.get("/jsi18n/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    assert client.get("/jsi18n/", HTTP_IF_NONE_MATCH="*").status_code == 304  # RFC 9110: it has a current one
    english = client.get("/jsi18n/", HTTP_IF_NONE_MATCH=first["ETag"], HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 200 and english["ETag"] != first["ETag"]
