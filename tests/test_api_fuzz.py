"""Schemathesis fuzzes every operation of /api/schema/ over real HTTP, signed out and signed in.

Each answer must be no 5xx and match the schema: a documented status code, content type and
body (and schemathesis' other default checks). Examples are derandomized, so CI sends the same
requests on every run.
"""

import pytest
import requests
import schemathesis
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.core.management.color import no_style
from django.db import connection
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings

from miniapp.engagement import services as engagement
from miniapp.engagement import visitors
from miniapp.lib.parsers import JSON_MAX_DEPTH
from miniapp.videos.models import Video
from tests.fixtures.factories import make_video

# The document /api/schema/ serves, built at collection time: schemathesis makes one test per
# operation from it. (Its lazy loader, `from_fixture`, does not run on pytest 9.)
# test_the_fuzzed_schema_is_the_served_one checks the two are the same.
SCHEMA = SchemaGenerator().get_schema(request=None, public=True)

CONFIG = schemathesis.Config.from_dict(
    {
        "operations": [
            {
                # Schema-valid input these refuse with a documented 400, for what a schema cannot
                # say: an opaque feed cursor that does not decode, a file that is not a video, ids
                # in `to` that are not the sharer's friends, a view shorter than VIEW_MIN_SECONDS
                # or from a browser without the id a page gives it, a live of a video that is not the
                # host's or at a time past the next 30 days, a live started again after its end, a
                # comment that is empty or on two lines or replies to a removed one, a reply pinned.
                # So schemathesis' statuses plus 400.
                "include-operation-id": [
                    "videos_feed",
                    "videos_create",
                    "videos_shares_create",
                    "videos_views_create",
                    "lives_create",
                    "lives_start_create",
                    "videos_comments_create",
                    "comments_pin_create",
                ],
                "checks": {
                    "positive_data_acceptance": {
                        "expected-statuses": ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]
                    }
                },
            }
        ]
    }
)
schema = schemathesis.openapi.from_dict(SCHEMA, config=CONFIG)


@schema.hook
def map_path_parameters(context, path_parameters):
    """Fold the ids the fuzzer makes up onto 1–8, where `demo` puts four videos (one hidden),
    so about half of them name a video. Very large ones are kept: they must be a plain 404."""
    video_id = (path_parameters or {}).get("video_id")
    if type(video_id) is int and 8 < video_id < 10**6:
        path_parameters["video_id"] = video_id % 8 + 1
    return path_parameters


FUZZ = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)

# alice's credentials. Fixed values: schemathesis builds its coverage cases, credentials
# included, when it collects the tests, before any fixture runs. The `alice` fixture gives
# her session this key.
ALICE_SESSION = "fuzzalice" * 4
ALICE_CSRF = "fuzzcsrf" * 4  # a CSRF secret: 32 letters and digits, sent back as is in the header


class AliceSession:
    """Signs cases in as alice: her session cookie, and the CSRF cookie and header that writes need.

    Given through schemathesis' auth API (not a requests session) so that it knows the
    credentials: its auth checks then take them away and expect a refusal.
    """

    def get(self, case, context):
        return ALICE_SESSION

    def set(self, case, data, context):
        case.cookies = {**(case.cookies or {}), "sessionid": data, "csrftoken": ALICE_CSRF}
        case.headers = {**(case.headers or {}), "X-CSRFToken": ALICE_CSRF}


@pytest.fixture
def demo(users, groups, settings):
    """A few videos (one hidden) with likes and a share, and the demo groups with a post, so ids
    the fuzzer picks sometimes exist."""
    cache.clear()  # rate limits count in the cache, which the server thread shares
    # Limits high enough that the fuzzer reaches what is behind them. (429 is still documented
    # on every throttled operation, and the limits have tests of their own.)
    for name in ("LIKE_RATE", "SHARE_RATE", "VIEW_RATE", "REPORT_RATE", "UPLOAD_RATE", "COMMENT_RATE"):
        setattr(settings, name, "1000/minute")
    alice, bob, carol = users["alice"], users["bob"], users["carol"]
    # Small ids, which the fuzzer tries often (then the sequence moves past them).
    videos = [
        make_video(alice, id=1, title="alice 1", likes=[bob, carol]),
        make_video(bob, id=2, title="bob 1", likes=[alice]),
        make_video(carol, id=3, title="carol 1"),
        make_video(users["erin"], id=4, title="hidden", status=Video.Status.HIDDEN),
    ]
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [Video]):
            cursor.execute(sql)
    engagement.share_create(sharer=alice, video=videos[1], recipients=[bob], note="look", arrived_via=None)
    engagement.group_posts_create(sharer=bob, video=videos[1], groups=[groups["王家村"]], note="看")
    yield videos
    cache.clear()


@pytest.fixture
def site(demo, live_site):
    """The app on a real HTTP server, with the demo data. (`users` points the app at
    http://testserver, so `live_site` must come after it.)"""
    return live_site


@pytest.fixture
def visitor(site):
    """The cookies of a signed-out browser that has opened a page: the CSRF cookie and its
    visitor id, no session. (Sent on fresh connections: the test server is slow to answer
    on a kept-alive one.)"""
    page = requests.get(f"{site}/", timeout=10)
    assert {"csrftoken", visitors.COOKIE} <= set(page.cookies.keys()) and "sessionid" not in page.cookies
    return {name: page.cookies[name] for name in ("csrftoken", visitors.COOKIE)}


@pytest.fixture
def alice(site, users):
    """alice signed in, her session under ALICE_SESSION. (Signed in as `force_login` does:
    the provider's sign-in takes a while, and tests/test_signin.py covers it.)"""
    client = Client()
    client.force_login(users["alice"])
    signed_in = Session.objects.get(session_key=client.cookies["sessionid"].value)
    Session.objects.create(
        session_key=ALICE_SESSION, session_data=signed_in.session_data, expire_date=signed_in.expire_date
    )
    cookies = {"sessionid": ALICE_SESSION, "csrftoken": ALICE_CSRF}
    assert requests.get(f"{site}/api/me/", cookies=cookies, timeout=10).json()["id"] == users["alice"].pk


def test_the_fuzzed_schema_is_the_served_one(live_server):
    served = requests.get(f"{live_server.url}/api/schema/", headers={"Accept": "application/json"}, timeout=10)
    assert served.status_code == 200
    assert served.json() == SCHEMA


@schema.parametrize()
@FUZZ
def test_api_signed_out(case, site, visitor):
    case.call_and_validate(base_url=site, cookies=visitor, timeout=10)


@schema.parametrize()
@schema.auth.apply(AliceSession, refresh_interval=None)
@FUZZ
def test_api_signed_in(case, site, alice):
    case.call_and_validate(base_url=site, timeout=10)


# Shapes a schema-driven fuzzer does not make: JSON nested far past what any API takes.
# Python's parser gives up on the deepest with RecursionError (a 500 before the JSON parser
# refused them); the shallower ones parse and must be refused all the same.
NESTED_JSON = {
    "lists 100,000 deep": "[" * 100_000 + "]" * 100_000,
    "objects 100,000 deep": '{"a": ' * 100_000 + "1" + "}" * 100_000,
    "a field 900 deep": '{"seconds": 3, "reason": "spam", "to": ' + "[" * 900 + "]" * 900 + "}",
    "one level past the limit": '{"to": ' + "[" * JSON_MAX_DEPTH + "]" * JSON_MAX_DEPTH + "}",
}


def json_operations() -> list[tuple[str, str]]:
    """(method, path) of every operation of the schema that takes a JSON body."""
    return [
        (method.upper(), path)
        for path, item in SCHEMA["paths"].items()
        for method, operation in item.items()
        if "application/json" in operation.get("requestBody", {}).get("content", {})
    ]


@pytest.mark.parametrize("shape", NESTED_JSON)
def test_deeply_nested_json_is_refused_with_a_400_by_every_api(site, alice, visitor, users, groups, shape):
    assert {path for _, path in json_operations()} >= {
        "/api/videos/{video_id}/shares/",
        "/api/videos/{video_id}/reports/",
        "/api/videos/{video_id}/views/",
        "/api/groups/{group_id}/read/",
        "/api/groups/{group_id}/posts/{post_id}/reports/",
        "/api/lives/",
        "/api/lives/{live_id}/reports/",
        "/api/videos/{video_id}/comments/",
        "/api/comments/{comment_id}/pin/",
    }
    from miniapp.engagement.comments import comment_create
    from miniapp.lives.services import live_create

    village = groups["王家村"]  # alice's, with bob's post in it
    post = village.posts.get()
    live = live_create(host=users["alice"], title="直播")
    comment = comment_create(user=users["bob"], video=make_video(users["alice"]), text="沙发")
    for method, path in json_operations():
        ids = {"video_id": 1, "group_id": village.pk, "post_id": post.pk, "live_id": live.pk, "comment_id": comment.pk}
        url = site + path.format(**ids)
        body = NESTED_JSON[shape].encode()
        headers = {"Content-Type": "application/json", "Accept-Language": "en"}
        signed_in = requests.request(
            method,
            url,
            data=body,
            headers={**headers, "X-CSRFToken": ALICE_CSRF},
            cookies={"sessionid": ALICE_SESSION, "csrftoken": ALICE_CSRF},
            timeout=10,
        )
        assert signed_in.status_code == 400, (method, path, signed_in.status_code, signed_in.text[:200])
        assert "nested too deeply" in signed_in.json()["detail"]
        signed_out = requests.request(method, url, data=body, headers=headers, cookies=visitor, timeout=10)
        # Signed out: the APIs that need a user say so first; the one open to anyone refuses the body.
        assert signed_out.status_code in (400, 403), (method, path, signed_out.status_code, signed_out.text[:200])
        assert signed_out.headers["Content-Type"] == "application/json" and signed_out.json()["detail"]
