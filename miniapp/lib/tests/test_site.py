"""Absolute URLs are on SITE_URL, whatever `Host` a request names: the API, Open Graph tags,
share links, QR codes and next-page links all carried it (any of ALLOWED_HOSTS, any port)."""

import re

import pytest
from django.test import Client

from miniapp.engagement import services
from miniapp.engagement.models import ShareLink
from tests.fixtures.factories import make_video

pytestmark = pytest.mark.django_db

SITE = "https://miniapp.example"
HOST = "127.0.0.1:6666"  # allowed (ALLOWED_HOSTS ignores the port), and not the site


@pytest.fixture
def site(settings, users):
    settings.SITE_URL = SITE


@pytest.fixture
def video(users):
    return make_video(users["erin"], title="老王的葡萄")


@pytest.fixture
def alice(site, users):
    client = Client(HTTP_HOST=HOST)
    client.force_login(users["alice"])
    return client


def urls_in(text: str) -> set[str]:
    return set(re.findall(r"https?://[^\s\"'<>]+", text))


def test_the_api_answers_urls_on_the_site(alice, video):
    card = alice.get(f"/api/videos/{video.pk}/").json()
    for field in ("video_url", "poster_url", "page_url"):
        assert card[field].startswith(f"{SITE}/"), card[field]
    share = alice.post(f"/api/videos/{video.pk}/shares/", {}, content_type="application/json").json()
    assert share["url"] == f"{SITE}/v/{video.pk}/?s={share['token']}"


def test_next_page_links_are_on_the_site(alice, users, settings):
    settings.ACTIVITY_PAGE_SIZE = 1
    for _ in range(10):  # more than a page of the feed (8), and two of bob's likes in alice's activity
        make_video(users["erin"])
    for video in make_video(users["erin"]), make_video(users["erin"]):
        services.like_create(user=users["bob"], video=video)
    assert alice.get("/api/videos/").json()["next"].startswith(f"{SITE}/api/videos/?cursor=")
    activity = alice.get("/api/activity/", {"after": 0}).json()
    assert activity["next"].startswith(f"{SITE}/api/activity/?after=")


def test_a_shared_page_tells_link_previews_the_site(site, video, users):
    share, _ = services.share_create(sharer=users["alice"], video=video, recipients=[], note="看看")
    page = Client(HTTP_HOST=HOST).get(f"/v/{video.pk}/?s={share.token}").content.decode()
    assert f'<meta property="og:url" content="{SITE}/v/{video.pk}/?s={share.token}">' in page
    assert {url for url in urls_in(page) if HOST in url} == set()
    for prop in ("og:image", "og:video"):
        assert re.search(rf'property="{prop}" content="{re.escape(SITE)}/media/', page), prop


def test_the_page_loads_its_media_from_its_own_origin(site, video):
    """Its CSP takes media from its own origin only, and SITE_URL may name the server
    otherwise (127.0.0.1 opened as localhost): paths, and feed.js is told where the site is."""
    page = Client(HTTP_HOST="localhost").get(f"/v/{video.pk}/").content.decode()
    assert f'data-src="{video.file.url}"' in page and f'data-poster="{video.poster.url}"' in page
    assert f'data-site="{SITE}"' in page


def test_the_qr_code_encodes_the_site_not_the_host(site, video, users):
    share, _ = services.share_create(sharer=users["alice"], video=video, recipients=[])
    assert ShareLink.objects.get().plain
    codes = {
        host: Client(HTTP_HOST=host).get(f"/v/{video.pk}/qr.svg", {"s": share.token}).content
        for host in ("testserver", HOST, "localhost")
    }
    assert len(set(codes.values())) == 1
