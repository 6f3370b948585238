"""Share links open for anyone, and what happens through them is credited to them."""

import re

import pytest
from django.core import signing
from django.test import Client

from miniapp.engagement import services, visitors
from miniapp.engagement.models import Like, View
from miniapp.videos.models import Video
from tests.fixtures.factories import make_video

pytestmark = pytest.mark.django_db


@pytest.fixture
def video(users):
    return make_video(users["erin"], title="老王的葡萄", description="村口的葡萄熟了")


@pytest.fixture
def alices_share(users, video):
    share, _ = services.share_create(
        sharer=users["alice"], video=video, recipients=[users["bob"]], note="这是我们村的老王"
    )
    return share


def meta(page: str, prop: str) -> str:
    found = re.search(rf'<meta (?:property|name)="{re.escape(prop)}" content="([^"]*)"', page)
    return found.group(1) if found else ""


def test_a_share_link_plays_for_signed_out_visitors_with_open_graph_tags(client, video, alices_share):
    url = f"/v/{video.pk}/?s={alices_share.token}"
    response = client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert f'data-id="{video.pk}"' in page and "slide-shared" in page
    assert '<q class="slide-note">这是我们村的老王</q>' in page
    assert meta(page, "og:title") == "老王的葡萄"
    assert meta(page, "og:type") == "video.other"
    assert meta(page, "og:url") == f"http://testserver{url}"
    assert meta(page, "og:description") == "alice: 这是我们村的老王"
    assert meta(page, "og:video").startswith("http://testserver/media/")
    assert meta(page, "og:image").startswith("http://testserver/media/")
    assert int(meta(page, "og:image:width")) >= 200 and int(meta(page, "og:image:height")) >= 200


def test_a_video_with_a_share_card_offers_it_as_a_wide_og_image(client, video, alices_share):
    Video.objects.filter(pk=video.pk).update(card=f"{video.poster.name.rsplit('/', 1)[0]}/card.jpg")
    page = client.get(f"/v/{video.pk}/?s={alices_share.token}").content.decode()
    assert meta(page, "og:image").endswith("/card.jpg")
    assert (int(meta(page, "og:image:width")), int(meta(page, "og:image:height"))) == (1200, 630)


def test_extra_parameters_that_wechat_appends_are_ignored(client, video, alices_share):
    url = f"/v/{video.pk}/?s={alices_share.token}&from=singlemessage&isappinstalled=0"
    page = client.get(url).content.decode()
    assert "slide-shared" in page
    assert meta(page, "og:url") == f"http://testserver/v/{video.pk}/?s={alices_share.token}"


@pytest.mark.parametrize("token", ["nope", "x" * 200, "", "%00", "\x00" * 16, "'or 1=1--", "AAAAAAAAAAAAAAA="])
def test_an_unknown_or_tampered_token_still_opens_the_video_without_credit(client, users, video, alices_share, token):
    response = client.get(f"/v/{video.pk}/", {"s": token})
    assert response.status_code == 200
    page = response.content.decode()
    assert "slide-shared" not in page
    assert meta(page, "og:url") == f"http://testserver/v/{video.pk}/"
    client.force_login(users["carol"])
    client.post(f"/api/videos/{video.pk}/like/")
    assert Like.objects.get(user=users["carol"]).share is None


def test_a_token_of_another_video_is_ignored(client, users, video, alices_share):
    other = make_video(users["erin"])
    page = client.get(f"/v/{other.pk}/?s={alices_share.token}").content.decode()
    assert "slide-shared" not in page


def test_a_link_to_a_hidden_video_shows_the_unavailable_page(client, video, alices_share):
    Video.objects.filter(pk=video.pk).update(status=Video.Status.HIDDEN)
    response = client.get(f"/v/{video.pk}/?s={alices_share.token}")
    assert response.status_code == 404
    assert "这是我们村的老王" not in response.content.decode()


def test_a_like_through_a_share_link_is_credited_to_it(client, users, video, alices_share):
    client.force_login(users["bob"])
    client.get(f"/v/{video.pk}/?s={alices_share.token}")
    assert client.post(f"/api/videos/{video.pk}/like/").status_code == 200
    assert Like.objects.get(user=users["bob"]).share == alices_share


def test_opening_the_link_then_signing_in_keeps_the_credit(client, users, video, alices_share):
    client.get(f"/v/{video.pk}/?s={alices_share.token}")  # signed out
    client.force_login(users["carol"])  # Django keeps the session's data when it signs in
    client.post(f"/api/videos/{video.pk}/like/")
    assert Like.objects.get(user=users["carol"]).share == alices_share


def test_a_re_share_chains_to_the_share_it_came_through(client, users, video, alices_share):
    client.force_login(users["bob"])
    client.get(f"/v/{video.pk}/?s={alices_share.token}")
    body = client.post(
        f"/api/videos/{video.pk}/shares/", {"to": [users["alice"].pk], "note": "转发"}, content_type="application/json"
    ).json()
    assert body["depth"] == 2
    reshare = alices_share.children.get()
    assert reshare.token == body["token"] and reshare.sharer == users["bob"]


def test_a_recipient_who_shares_on_without_the_link_still_chains(users, video, alices_share):
    share, _ = services.share_create(sharer=users["bob"], video=video, recipients=[users["alice"]])
    assert share.parent == alices_share and share.depth == 2


def test_the_sharer_opening_their_own_link_credits_nothing(client, users, video, alices_share):
    client.force_login(users["alice"])
    client.get(f"/v/{video.pk}/?s={alices_share.token}")
    client.post(f"/api/videos/{video.pk}/like/")
    assert Like.objects.get(user=users["alice"]).share is None
    share, _ = services.share_create(sharer=users["alice"], video=video, recipients=[], note="again")
    assert share.parent is None and share.depth == 1


def view(client, video, seconds=2.5):
    return client.post(f"/api/videos/{video.pk}/views/", {"seconds": seconds}, content_type="application/json")


def test_a_view_counts_once_a_day_per_viewer_and_is_credited_to_the_link(client, users, video, alices_share):
    client.force_login(users["bob"])
    client.get(f"/v/{video.pk}/?s={alices_share.token}")
    assert view(client, video).json() == {"counted": True}
    assert view(client, video).json() == {"counted": False}
    row = View.objects.get()
    assert (row.viewer, row.share, row.visitor) == (users["bob"], alices_share, f"u{users['bob'].pk}")


def test_signed_out_views_count_once_per_browser(video, alices_share):
    first, second = Client(), Client()
    for browser in (first, second):
        browser.get(f"/v/{video.pk}/?s={alices_share.token}")
        assert view(browser, video).json() == {"counted": True}
        assert view(browser, video).json() == {"counted": False}
    assert View.objects.filter(viewer=None, share=alices_share).count() == 2


@pytest.mark.parametrize("payload", [{"seconds": 1.9}, {"seconds": -1}, {"seconds": "lots"}, {}])
def test_a_view_shorter_than_two_seconds_or_malformed_is_refused(client, video, payload):
    client.get(f"/v/{video.pk}/")
    response = client.post(f"/api/videos/{video.pk}/views/", payload, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"]
    assert not View.objects.exists()


def test_views_of_hidden_videos_are_404(client, users):
    hidden = make_video(users["erin"], status=Video.Status.HIDDEN)
    assert view(client, hidden).status_code == 404


def test_view_reports_are_rate_limited_per_address_whatever_x_forwarded_for_says(client, users, settings):
    settings.VIEW_RATE = "2/minute"
    videos = [make_video(users["erin"]) for _ in range(3)]
    client.get("/")  # the page's CSRF cookie tells this browser apart
    statuses = [
        client.post(
            f"/api/videos/{v.pk}/views/",
            {"seconds": 3},
            content_type="application/json",
            HTTP_X_FORWARDED_FOR=f"10.0.0.{n}",
        ).status_code
        for n, v in enumerate(videos)
    ]
    assert statuses == [200, 200, 429]


def test_a_signed_out_view_without_the_pages_cookie_is_refused_and_makes_no_session(client, users):
    from django.contrib.sessions.models import Session

    response = view(client, make_video(users["erin"]))
    assert response.status_code == 400 and response.json()["detail"]
    assert not Session.objects.exists()


def test_a_video_page_gives_a_signed_out_browser_an_id_of_its_own(video):
    browser = Client()
    response = browser.get(f"/v/{video.pk}/")
    cookie = response.cookies[visitors.COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["max-age"] == visitors.MAX_AGE
    assert visitors.COOKIE not in browser.get("/").cookies  # the same id from then on


def altered(value: str) -> str:
    return value[:-1] + ("y" if value.endswith("x") else "x")


def test_signed_out_views_with_made_up_cookies_are_not_counted(users, video):
    """The CSRF cookie was the visitor's id: every made-up value counted as another viewer."""
    page = Client()
    page.get(f"/v/{video.pk}/")
    forged = [{"csrftoken": f"madeup{n:026d}"} for n in range(3)] + [
        {visitors.COOKIE: "madeup"},  # unsigned
        {visitors.COOKIE: signing.get_cookie_signer(salt="another").sign("madeup")},  # not our salt
        {visitors.COOKIE: altered(page.cookies[visitors.COOKIE].value)},
    ]
    for cookies in forged:
        browser = Client()
        browser.cookies.load(cookies)
        response = view(browser, video)
        assert response.status_code == 400 and response.json()["detail"]
    assert not View.objects.exists()
    assert view(page, video).json() == {"counted": True}  # the id the page gave


def test_the_qr_code_is_an_svg_of_the_share_link(client, video, alices_share):
    response = client.get(f"/v/{video.pk}/qr.svg", {"s": alices_share.token})
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response.content.lstrip().startswith(b"<svg")
    plain = client.get(f"/v/{video.pk}/qr.svg", {"s": "forged"})
    assert plain.status_code == 200 and plain.content != response.content
    assert client.get(f"/v/{video.pk}/qr.svg", {"s": "\x00"}).status_code == 200  # no share, no 500
    Video.objects.filter(pk=video.pk).update(status=Video.Status.REMOVED)
    assert client.get(f"/v/{video.pk}/qr.svg").status_code == 404
