"""Where a reconnecting socket resumes: the `?after=<id>` of its URL (the activity log's position
on `/ws/activity/`, the last comment on a live room's socket)."""

from urllib.parse import parse_qs


def parse_after(scope) -> int | None:
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("after")
    if not values:
        return None
    try:
        after = int(values[0])
    except ValueError:
        return None  # garbage: treated as "no replay" (documented in README)
    return after if after >= 0 else None
