"""Bodies and addresses Django itself refuses, answered with the API's JSON errors.

tests/test_api_errors_e2e.py sends the same over Daphne with DEBUG on.
"""

import pytest
from django.test import Client

from tests.fixtures.factories import make_video

pytestmark = pytest.mark.django_db

CSRF = "apierrorscsrf" * 2 + "abcdef"  # 32 letters, as the CSRF cookie holds


@pytest.fixture
def alice(users):
    """alice's browser, with the CSRF check on (DRF enforces it for signed-in users)."""
    client = Client(enforce_csrf_checks=True, HTTP_X_CSRFTOKEN=CSRF, HTTP_ACCEPT_LANGUAGE="en")
    client.cookies["csrftoken"] = CSRF
    client.force_login(users["alice"])
    return client


@pytest.fixture
def video(users):
    return make_video(users["erin"])


def test_a_json_body_over_the_memory_limit_is_a_json_413(alice, video, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = alice.post(f"/api/videos/{video.pk}/shares/", {"note": "x" * 1000}, content_type="application/json")
    assert response.status_code == 413
    assert response.json() == {"detail": "The request body is too large: at most 1000\xa0bytes."}


def test_a_form_with_too_many_fields_is_a_json_400(alice, video, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 3
    body = "&".join(f"to={n}" for n in range(10))
    response = alice.post(f"/api/videos/{video.pk}/shares/", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert response.json() == {"detail": "The request has too many fields or files."}


@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize("path", ["/api/videos/-1/", "/api/nonexistent/", "/api/videos/abc/"])
def test_an_api_address_that_names_nothing_is_a_json_404(client, settings, debug, path):
    settings.DEBUG = debug  # `make dev`'s; Django's 404 page passes over handler404 then
    response = client.get(path, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_a_write_to_an_address_without_its_final_slash_is_told_the_address(alice, video, settings):
    settings.DEBUG = True  # CommonMiddleware's APPEND_SLASH raised RuntimeError on a POST: a 500
    response = alice.post(f"/api/videos/{video.pk}/like")
    assert response.status_code == 404
    assert response.json() == {"detail": f"Not found. The address ends with a slash: /api/videos/{video.pk}/like/"}
