"""A database error is a 503 with a reason and Retry-After, never a 500: raised in a view
(the middleware) or before one (handler500). The fault tests break a real database."""

import json

import pytest
from django.db import OperationalError

from miniapp.lib.unavailable import DatabaseUnavailableMiddleware, server_error


def test_an_api_request_gets_json(rf):
    middleware = DatabaseUnavailableMiddleware(lambda request: None)
    response = middleware.process_exception(rf.post("/api/videos/1/like/"), OperationalError("server closed"))
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert json.loads(response.content)["code"] == "unavailable"


@pytest.mark.django_db
def test_a_page_gets_a_page_that_asks_nothing_of_the_database(rf, django_assert_num_queries):
    middleware = DatabaseUnavailableMiddleware(lambda request: None)
    with django_assert_num_queries(0):
        response = middleware.process_exception(rf.get("/friends/"), OperationalError("database is locked"))
    assert response.status_code == 503
    assert 'role="alert"' in response.content.decode()


def test_other_errors_are_left_alone(rf):
    middleware = DatabaseUnavailableMiddleware(lambda request: None)
    assert middleware.process_exception(rf.get("/"), ValueError("a bug")) is None


@pytest.mark.django_db
def test_handler500_answers_503_while_a_database_error_is_handled(rf):
    try:
        raise OperationalError("connection refused")
    except OperationalError:
        response = server_error(rf.get("/friends/"))
    assert response.status_code == 503


@pytest.mark.django_db
def test_handler500_is_a_500_for_anything_else(rf):
    try:
        raise ValueError("a bug")
    except ValueError:
        response = server_error(rf.get("/friends/"))
    assert response.status_code == 500
