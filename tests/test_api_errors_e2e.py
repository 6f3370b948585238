"""Refused input answers the API's JSON errors on the real server: Daphne, DEBUG on, as
`make run` serves the app. (pytest-django's `live_server` is Django's WSGI server, and
tests set DEBUG off: neither showed these.)
"""

import pytest
import requests
from django.contrib.auth import get_user_model

from tests.fixtures.factories import make_video
from tests.fixtures.personas import api_session
from tests.fixtures.servers import start_server, stop_server

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# A multipart body of the closing boundary alone: schemathesis sends it. Twisted's form
# parser, which Daphne's requests ran before Django saw the body, refused it with a bare 400.
CLOSING_BOUNDARY_ONLY = {"data": b"--XyZ--\r\n", "headers": {"Content-Type": "multipart/form-data; boundary=XyZ"}}


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, media_dir, tmp_path_factory):
    """Daphne with DEBUG on, whatever the environment says."""
    log = tmp_path_factory.mktemp("logs") / "daphne-debug.log"
    server = start_server(media_root=media_dir, log=log, extra_env={"DEBUG": "1"})
    yield server
    stop_server(server)


@pytest.fixture
def site(server, transactional_db):
    return server.url


@pytest.fixture
def video(site):
    return make_video(get_user_model().objects.create(username="author"))


@pytest.fixture
def alice(site):
    session = api_session(get_user_model().objects.create(username="alice"))
    session.headers["Referer"] = site
    return session


@pytest.fixture
def visitor(site, video):
    """A signed-out browser that opened the video's page (and got its cookies)."""
    browser = requests.Session()
    assert browser.get(f"{site}/v/{video.pk}/", timeout=10).status_code == 200
    return browser


def assert_json_error(response, status: int) -> str:
    assert (response.status_code, response.headers.get("Content-Type")) == (status, "application/json"), (
        response.status_code,
        response.headers,
        response.text[:300],
    )
    return response.json()["detail"]


@pytest.mark.parametrize("path", ["/api/videos/-1/", "/api/nonexistent/", "/api/", "/api/videos/1/like"])
def test_an_address_under_api_that_names_nothing_is_a_json_404(site, alice, path):
    for method in ("GET", "POST"):
        detail = assert_json_error(alice.request(method, site + path, timeout=10), 404)
        assert detail


def test_a_missing_final_slash_is_named_not_redirected(site, alice, video):
    response = alice.post(f"{site}/api/videos/{video.pk}/like", allow_redirects=False, timeout=10)
    assert f"/api/videos/{video.pk}/like/" in assert_json_error(response, 404)


def test_a_malformed_multipart_body_reaches_the_api(site, alice, visitor, video):
    views = visitor.post(f"{site}/api/videos/{video.pk}/views/", **CLOSING_BOUNDARY_ONLY, timeout=10)
    assert "seconds" in assert_json_error(views, 400)  # an empty form: no `seconds`
    shares = alice.post(f"{site}/api/videos/{video.pk}/shares/", **CLOSING_BOUNDARY_ONLY, timeout=10)
    assert shares.status_code == 201 and shares.json()["token"]  # an empty form: a plain link, as `{}`


def test_a_well_formed_multipart_body_still_arrives_whole(site, visitor, video):
    response = visitor.post(f"{site}/api/videos/{video.pk}/views/", files={"seconds": (None, "2.5")}, timeout=10)
    assert response.json() == {"counted": True}


def test_a_json_body_over_the_memory_limit_is_a_json_413(site, alice, visitor, video, settings):
    body = b'{"note": "' + b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1) + b'"}'
    headers = {"Content-Type": "application/json"}
    for session, path in ((visitor, "views"), (alice, "shares"), (alice, "reports")):
        response = session.post(f"{site}/api/videos/{video.pk}/{path}/", data=body, headers=headers, timeout=30)
        assert assert_json_error(response, 413)
