import gzip

import pytest

from miniapp.lib.compression import is_text
from tests.fixtures.factories import make_video

pytestmark = pytest.mark.django_db

GZIP = {"HTTP_ACCEPT_ENCODING": "gzip, deflate, br"}


def test_pages_are_compressed_for_browsers_that_accept_gzip(client):
    plain = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    packed = client.get("/", HTTP_ACCEPT_LANGUAGE="en", **GZIP)
    assert plain.status_code == packed.status_code == 200
    assert "Content-Encoding" not in plain
    assert packed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed["Vary"]
    assert int(packed["Content-Length"]) < len(plain.content)
    assert b"</html>" in gzip.decompress(packed.content)


def test_api_answers_are_compressed(client):
    response = client.get("/api/schema/", {"format": "json"}, **GZIP)
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.content).startswith(b"{")


def test_media_is_sent_as_stored_and_its_ranges_exact(client, settings, tmp_path, django_user_model):
    settings.MEDIA_ROOT = tmp_path
    video = make_video(django_user_model.objects.create(username="maker"))
    (tmp_path / video.file.name).parent.mkdir(parents=True)
    (tmp_path / video.file.name).write_text("a" * 10_000)
    response = client.get(video.file.url, HTTP_RANGE="bytes=0-999", **GZIP)
    assert response.status_code == 206
    assert "Content-Encoding" not in response
    assert response["Content-Length"] == "1000"
    assert b"".join(response.streaming_content) == b"a" * 1000


@pytest.mark.parametrize(
    ("content_type", "text"),
    [
        ("text/html; charset=utf-8", True),
        ("application/json", True),
        ("application/problem+json", True),
        ("text/javascript; charset=utf-8", True),
        ("image/svg+xml", True),
        ("application/vnd.oai.openapi+json", True),
        ("video/mp4", False),
        ("image/jpeg", False),
        ("", False),
    ],
)
def test_it_knows_text_from_media(content_type, text):
    assert is_text(content_type) is text
