import pytest

from miniapp.videos.media import CACHE_CONTROL
from miniapp.videos.models import Video
from tests.fixtures.factories import make_video

pytestmark = pytest.mark.django_db  # a file of a video that is no longer published is withheld

BODY = bytes(range(256)) * 40  # 10,240 bytes


@pytest.fixture
def media_file(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "videos" / "abc").mkdir(parents=True)
    (tmp_path / "videos" / "abc" / "video.mp4").write_bytes(BODY)
    (tmp_path / "secret.txt").write_text("outside")
    return "/media/videos/abc/video.mp4"


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_it_serves_the_whole_file(client, media_file):
    response = client.get(media_file)
    assert response.status_code == 200
    assert body_of(response) == BODY
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "video/mp4"
    assert response["Content-Length"] == str(len(BODY))
    assert "max-age" in response["Cache-Control"]
    assert response["ETag"]


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=100-", 100, len(BODY) - 1),
        ("bytes=-50", len(BODY) - 50, len(BODY) - 1),
        ("bytes=10000-99999", 10000, len(BODY) - 1),
        ("bytes=0-0", 0, 0),
    ],
)
def test_it_answers_ranges_with_206(client, media_file, header, start, end):
    response = client.get(media_file, HTTP_RANGE=header)
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {start}-{end}/{len(BODY)}"
    assert response["Content-Length"] == str(end - start + 1)
    assert body_of(response) == BODY[start : end + 1]


@pytest.mark.parametrize("header", ["bytes=999999999-", f"bytes={len(BODY)}-", "bytes=-0"])
def test_unsatisfiable_ranges_get_416(client, media_file, header):
    response = client.get(media_file, HTTP_RANGE=header)
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(BODY)}"


@pytest.mark.parametrize("header", ["bytes=abc", "items=0-1", "bytes=5-2", "bytes=0-1,5-6", "bytes=-", "garbage"])
def test_malformed_ranges_get_the_whole_file(client, media_file, header):
    response = client.get(media_file, HTTP_RANGE=header)
    assert response.status_code == 200
    assert body_of(response) == BODY


def test_a_stale_if_range_gets_the_whole_file(client, media_file):
    response = client.get(media_file, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"old"')
    assert response.status_code == 200
    etag = response["ETag"]
    assert client.get(media_file, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=etag).status_code == 206


def test_it_answers_304_to_a_matching_etag(client, media_file):
    etag = client.get(media_file)["ETag"]
    assert client.get(media_file, HTTP_IF_NONE_MATCH=etag).status_code == 304


@pytest.mark.parametrize("header", ["*", '"other", {etag}', "W/{etag}"])
def test_it_answers_304_to_any_if_none_match_that_matches(client, media_file, header):
    etag = client.get(media_file)["ETag"]
    response = client.get(media_file, HTTP_IF_NONE_MATCH=header.format(etag=etag))
    assert response.status_code == 304  # RFC 9110 13.1.2: `*` matches any current file
    assert (response["ETag"], response["Cache-Control"]) == (etag, CACHE_CONTROL)
    assert client.head(media_file, HTTP_IF_NONE_MATCH="*").status_code == 304


def test_a_failed_if_match_is_412(client, media_file):
    assert client.get(media_file, HTTP_IF_MATCH='"other"').status_code == 412


def test_shared_caches_keep_a_published_file_a_minute_then_ask_again(client, media_file):
    directives = {part.strip() for part in client.get(media_file)["Cache-Control"].split(",")}
    assert directives == {"public", "max-age=86400", "s-maxage=60", "must-revalidate"}  # not `immutable`


def test_a_cache_asking_again_after_a_takedown_is_told_it_is_gone(client, users, media_file):
    video = make_video(users["erin"])
    Video.objects.filter(pk=video.pk).update(file="videos/abc/video.mp4")
    etag = client.get(media_file)["ETag"]
    assert client.get(media_file, HTTP_IF_NONE_MATCH=etag).status_code == 304
    Video.objects.filter(pk=video.pk).update(status=Video.Status.HIDDEN)
    gone = client.get(media_file, HTTP_IF_NONE_MATCH=etag)
    assert gone.status_code == 404
    assert gone["Cache-Control"] == "no-store"  # nor is the 404 kept: a restore plays at once


def test_head_sends_headers_only(client, media_file):
    response = client.head(media_file, HTTP_RANGE="bytes=0-9")
    assert response.status_code == 206
    assert response["Content-Length"] == "10"
    assert body_of(response) == b""


@pytest.mark.parametrize(
    "path", ["/media/videos/abc/nope.mp4", "/media/../secret_key", "/media/videos/../../etc/passwd"]
)
def test_it_never_serves_what_is_missing_or_outside(client, media_file, path):
    assert client.get(path).status_code == 404


def test_it_rejects_post(client, media_file):
    assert client.post(media_file).status_code == 405


@pytest.mark.parametrize("status", [Video.Status.HIDDEN, Video.Status.REMOVED])
def test_the_files_of_a_video_taken_down_are_withheld_but_staff_still_see_them(client, users, media_file, status):
    video = make_video(users["erin"], status=status)
    Video.objects.filter(pk=video.pk).update(file="videos/abc/video.mp4", poster="videos/abc/poster.jpg")
    assert client.get(media_file).status_code == 404
    users["alice"].is_staff = True
    users["alice"].save()
    client.force_login(users["alice"])
    assert client.get(media_file).status_code == 200
    Video.objects.filter(pk=video.pk).update(status=Video.Status.PUBLISHED)
    client.logout()
    assert client.get(media_file).status_code == 200


@pytest.mark.parametrize(
    "spelling",
    ["videos//abc/video.mp4", "videos/abc/./video.mp4", "./videos/abc/video.mp4", "videos/x/../abc/video.mp4"],
)
def test_other_spellings_of_a_path_are_not_served(client, users, media_file, spelling):
    video = make_video(users["erin"], status=Video.Status.HIDDEN)
    Video.objects.filter(pk=video.pk).update(file="videos/abc/video.mp4")
    assert client.get(f"/media/{spelling}").status_code == 404


def test_staff_get_a_taken_down_video_uncached(client, users, media_file):
    video = make_video(users["erin"], status=Video.Status.REMOVED)
    Video.objects.filter(pk=video.pk).update(file="videos/abc/video.mp4")
    users["alice"].is_staff = True
    users["alice"].save()
    client.force_login(users["alice"])
    assert client.get(media_file)["Cache-Control"] == "private, no-store"


def test_behind_nginx_it_decides_and_nginx_sends(client, users, media_file, settings):
    settings.MEDIA_ACCEL_REDIRECT = "/internal-media/"
    response = client.get(media_file, HTTP_RANGE="bytes=0-99")
    assert response.status_code == 200  # nginx answers the range from its internal location
    assert response["X-Accel-Redirect"] == "/internal-media/videos/abc/video.mp4"
    assert response.content == b""
    assert "Content-Type" not in response
    assert "max-age" in response["Cache-Control"]

    video = make_video(users["erin"], status=Video.Status.HIDDEN)
    Video.objects.filter(pk=video.pk).update(file="videos/abc/video.mp4")
    assert client.get(media_file).status_code == 404  # withheld, whoever serves the bytes
    users["alice"].is_staff = True
    users["alice"].save()
    client.force_login(users["alice"])
    response = client.get(media_file)
    assert response["X-Accel-Redirect"] == "/internal-media/videos/abc/video.mp4"
    assert response["Cache-Control"] == "private, no-store"
