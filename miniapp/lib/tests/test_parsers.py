import io

import pytest
from django.utils import translation
from rest_framework.exceptions import ParseError

from miniapp.lib.parsers import JSON_MAX_DEPTH, JSONParser


def parse(text: str):
    with translation.override("en"):
        return JSONParser().parse(io.BytesIO(text.encode()))


def nested(depth: int) -> str:
    """Lists and objects in turn, `depth` levels in all."""
    opening = "".join('{"a": ' if level % 2 else "[" for level in range(depth))
    closing = "".join("}" if level % 2 else "]" for level in reversed(range(depth)))
    return opening + "1" + closing


@pytest.mark.parametrize("text", ["null", "false", "0", '"text"', "[]", "{}", '{"to": [1, 2], "note": "hi"}'])
def test_it_parses_what_the_apis_take(text):
    parse(text)


def test_it_takes_bodies_as_deep_as_the_limit():
    assert parse(nested(JSON_MAX_DEPTH))


@pytest.mark.parametrize("depth", [JSON_MAX_DEPTH + 1, 900, 100_000])
def test_it_refuses_bodies_nested_deeper(depth):
    with pytest.raises(ParseError, match="nested too deeply"):
        parse(nested(depth))


def test_it_still_refuses_what_is_not_json():
    with pytest.raises(ParseError, match="JSON parse error"):
        parse("{")
