"""The JSON parser every API uses (REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]).

A module of its own: DRF imports it while it defines `APIView`, so it must not import
anything that needs `APIView` (as drf-spectacular, in `lib.api`, does).
"""

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

# Far deeper than any body our APIs take (a list of ids in an object: 2), far shallower than
# the recursion limit. Past it a body is refused whole, before any serializer walks it.
JSON_MAX_DEPTH = 32


def nesting_exceeds(data, limit: int) -> bool:
    """Whether parsed JSON has lists or objects nested more than `limit` deep.
    Iterative: a check against deep nesting must not recurse itself."""
    pending = [(data, 1)] if isinstance(data, dict | list) else []
    while pending:
        value, depth = pending.pop()
        if depth > limit:
            return True
        children = value.values() if isinstance(value, dict) else value
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser (the default for every API), refusing bodies nested absurdly deep
    with a 400. Python's parser gives up on them with RecursionError, which DRF's does not
    catch: a body of 100,000 `[` was a 500 on any API, even to anonymous callers."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
            too_deep = nesting_exceeds(data, JSON_MAX_DEPTH)
        except RecursionError:
            too_deep = True
        if too_deep:
            raise ParseError(
                _("The JSON body is nested too deeply: at most %(limit)d levels of lists and objects.")
                % {"limit": JSON_MAX_DEPTH}
            )
        return data
