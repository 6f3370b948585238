"""The catalogue of every event a socket can receive (the activity socket's, the comment sheet's
and the live room's): its `type` and fields, one JSON Schema each.

The builders live with what an event is made of: `engagement.events` (activity, retract,
group_post, from the log; group_read), `videos.events` (video_gone), `engagement.comments`
(the sheet's), `lives` (the room's), and the activity socket's own frames below (hello, reload,
pong). Every event goes out through `realtime.events`, `ActivityConsumer`, the sheet's group or
the room's writes, and the test suite checks each one it sends against its catalogue
(`check_sent`, called where they are sent: `check_event` while `REALTIME_CHECK_EVENTS` is on,
as `settings_test` has it), as Zulip's `event_schema` does.

`EVENTS` is the activity socket's (`/ws/activity/`), `SHEET_EVENTS` the comment sheet's
(`/ws/videos/<id>/comments/`), `ROOM_EVENTS` the live room's (`/ws/live/<id>/`). A new event
is one entry here, its builder, and a test that makes the app send it
(`realtime/tests/test_event_catalogue.py`, `engagement/tests/test_sheet_catalogue.py`,
`lives/tests/test_room_catalogue.py`, which fail for a type they have no test for).

JSON Schema because the events are JSON and the check is a well-kept library's (`jsonschema`),
not ours; it is used by the tests only, so production never imports it.
"""

import json
from datetime import UTC, datetime
from functools import cache

from django.conf import settings

ID = {"type": "integer", "minimum": 1}
POSITION = {"type": "integer", "minimum": 0}  # a log position: 0 while the log is empty
TEXT = {"type": "string"}
PATH = {"type": "string", "pattern": "^/"}  # same origin as the page (see ARCHITECTURE.md)
TIME = {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"}  # UTC, to the second


def event_time(moment: datetime) -> str:
    """A moment as events carry it (TIME): UTC, to the second, "2026-12-03T19:00:00Z"."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


REPLAY = {"const": True}  # sent again from the log: a reconnect's replay, or a catch-up


def record(required: dict, optional: dict | None = None) -> dict:
    """An object with these fields (each a schema), the `required` ones always, and no other."""
    return {
        "type": "object",
        "properties": {**required, **(optional or {})},
        "required": list(required),
        "additionalProperties": False,
    }


def event(type_: str, required: dict | None = None, optional: dict | None = None) -> dict:
    """An event: `{"type": type_}` with these fields."""
    return record({"type": {"const": type_}, **(required or {})}, optional)


ACTOR = record({"id": ID, "name": TEXT, "avatar": TEXT})
VIDEO = record({"id": ID, "title": TEXT, "poster_url": PATH})
COUNT = {"type": "integer", "minimum": 0}
LIVE_STATUS = {"enum": ["scheduled", "live", "ended"]}
LIVE = record({"id": ID, "title": TEXT, "host": ACTOR, "status": LIVE_STATUS})
# Unread posts, exact up to 99; 100 means "more than 99" (shown "99+").
UNREAD = {"type": "integer", "minimum": 0, "maximum": 100}
POST = record(
    {
        "id": ID,
        "group": ID,
        "kind": {"enum": ["share", "live"]},
        "author": ACTOR,
        "video": {
            "anyOf": [
                {"type": "null"},
                record({**VIDEO["properties"], "like_count": COUNT, "duration": {"type": "number", "minimum": 0}}),
            ]
        },
        "live": {
            "anyOf": [
                {"type": "null"},
                record(
                    {
                        "id": ID,
                        "title": TEXT,
                        "status": LIVE_STATUS,
                        "starts_at": {"anyOf": [{"type": "null"}, TIME]},
                    }
                ),
            ]
        },  # a live's announcement (kind "live"), with no video
        "note": {"type": "string", "maxLength": 140},
        "url": PATH,
        "views": COUNT,
        "created": TIME,
    }
)

EVENTS = {
    # First on every socket: where the log stands (resume from here when you had no id).
    "hello": event("hello", {"last_id": POSITION}),
    # More was missed than a replay sends (ACTIVITY_REPLAY_LIMIT): fetch /api/activity/ again.
    "reload": event("reload", {"last_id": POSITION}),
    # The answer to the client's {"type": "ping"}.
    "pong": event("pong"),
    # A friend liked, shared or commented on a video, or liked a live (`live_like`: their first
    # like in it, with `live` and no video; `url` opens the room). `seq` is its log position
    # (equal to `id`); a share has a `note` and its `url` is the share link; a comment has its
    # text as `note`, and its `url` opens the video with its comments.
    "activity": {
        **event(
            "activity",
            {
                "id": ID,
                "seq": ID,
                "verb": {"enum": ["like", "share", "comment", "live_like"]},
                "actor": ACTOR,
                "video": {"anyOf": [{"type": "null"}, VIDEO]},
                "created": TIME,
                "url": PATH,
            },
            {"note": {"type": "string", "maxLength": 140}, "live": LIVE, "replay": REPLAY},
        ),
        "allOf": [
            {
                "if": {"properties": {"verb": {"enum": ["share", "comment"]}}},
                "then": {"required": ["note"]},  # a share's note ("" when there is none), a comment's text
                "else": {"not": {"required": ["note"]}},
            },
            {
                "if": {"properties": {"verb": {"const": "live_like"}}},
                "then": {"required": ["live"], "properties": {"video": {"type": "null"}}},
                "else": {"not": {"required": ["live"]}, "properties": {"video": VIDEO}},
            },
        ],
    },
    # The entry `id` is withdrawn (an unlike, a takedown, a ban...); `seq` is the retraction's
    # own log position.
    "retract": event("retract", {"id": ID, "seq": ID}, {"replay": REPLAY}),
    # A moderator took the video down: every open page drops it. Sent to every socket, not logged.
    "video_gone": event("video_gone", {"video": ID}),
    # A post in one of the user's groups (the user's own too, for their other pages). `seq` is
    # its position in the same log as activities (equal to `post.id`). Withdrawn by a `retract`.
    "group_post": event("group_post", {"group": ID, "post": POST, "seq": ID}, {"replay": REPLAY}),
    # A live announced in one of the user's groups went on air or ended: its cards show it.
    # Not logged: a page that opens later reads the live's state with the posts.
    "live_state": event("live_state", {"live": record({"id": ID, "status": LIVE_STATUS})}),
    # The user read a group up to `last_id` on one of their pages: the others clear its badge.
    # Not logged: a page that opens later reads the counts from /api/groups/.
    "group_read": event("group_read", {"group": ID, "last_id": POSITION, "unread": UNREAD, "total_unread": UNREAD}),
}

NULL_OR_ID = {"anyOf": [{"type": "null"}, ID]}
# A comment as the API and the sheet give it (`engagement.comments.comment_body`).
COMMENT = record(
    {
        "id": ID,
        "video": ID,
        "parent": NULL_OR_ID,  # the comment a reply is under
        "author": ACTOR,
        "reply_to": {"anyOf": [{"type": "null"}, record({"id": ID, "name": TEXT})]},  # whom a reply answers
        "text": {"type": "string", "minLength": 1, "maxLength": 140},
        "pinned": {"type": "boolean"},
        "created": TIME,
    }
)

# The comment sheet's socket, `/ws/videos/<id>/comments/` (`engagement.consumers`): a catalogue
# of its own, as its audience is a video's open sheets, signed out ones too. Builders in
# `engagement.comments`; not logged (a sheet reads the list again when its socket comes back).
SHEET_EVENTS = {
    "comment": event("comment", {"comment": COMMENT}),  # a new comment or reply
    "comment_gone": event("comment_gone", {"id": ID, "parent": NULL_OR_ID}),  # with its replies
    "comment_pinned": event("comment_pinned", {"id": NULL_OR_ID}),  # null: none pinned now
    "video_gone": EVENTS["video_gone"],  # taken down: the sheet closes
    "pong": EVENTS["pong"],
}

# What a client may send (anything else is ignored).
PING = "ping"


def hello_event(*, last_id: int) -> dict:
    return {"type": "hello", "last_id": last_id}


def reload_event(*, last_id: int) -> dict:
    return {"type": "reload", "last_id": last_id}


def pong_event() -> dict:
    return {"type": "pong"}


def is_ping(text_data: str | None) -> bool:
    """Whether a client's text frame is a ping, the one thing a socket is sent; anything else,
    JSON or not (nested too deep for the parser too), is ignored."""
    try:
        message = json.loads(text_data or "")
    except (ValueError, RecursionError):
        return False
    return isinstance(message, dict) and message.get("type") == PING


def replayed(event: dict) -> dict:
    """An event from the log sent again (a replay or a catch-up): marked `"replay": true`."""
    return {**event, "replay": True}


class MalformedEvent(ValueError):
    pass


# The live room's socket, `/ws/live/<id>/` (`lives.room_socket`): what every viewer of a live sees
# change, signed out too. Not logged: a reconnect's hello carries the totals and the comments
# missed. Builders in `lives.room_socket`, `lives.room_worker`, `lives.room` and `lives.comments`.
ROOM_STATUS = {"enum": ["scheduled", "live", "paused", "ended"]}  # paused: on air, the camera quiet
LIKERS = {"type": "array", "items": ACTOR, "maxItems": 3}  # the latest, newest first
ROOM_COMMENT = event(
    "comment",
    {
        "id": ID,
        "user": ACTOR,
        "text": {"type": "string", "minLength": 1, "maxLength": 100},
        "staff": {"type": "boolean"},  # the host's or a moderator's: never dropped
        "created": TIME,
    },
)
ROOM_EVENTS = {
    # First: the room as it stands, and the latest comments (after `?after=`: those missed, and
    # in `gone` the ids of comments up to `after` removed meanwhile, to take off the screen).
    "hello": event(
        "hello",
        {
            "likes": COUNT,
            "viewers": COUNT,
            "status": ROOM_STATUS,
            "likers": LIKERS,
            "comments": {"type": "array", "items": ROOM_COMMENT},
        },
        {"gone": {"type": "array", "items": ID, "maxItems": 50}},
    ),
    # At most once a tick, when the likes or viewers moved: `delta`, the likes since this
    # socket's last frame (the hearts it draws).
    "room": event("room", {"likes": COUNT, "delta": COUNT, "viewers": COUNT, "likers": LIKERS}),
    "status": event("status", {"status": ROOM_STATUS}),
    "comment": ROOM_COMMENT,
    "comment_gone": event("comment_gone", {"id": ID}),
    # Someone came in: to their friends in the room (`friend: true`), now and then to the others
    # (`friend: false`).
    "notice": event("notice", {"kind": {"const": "enter"}, "user": ACTOR, "friend": {"type": "boolean"}}),
    "pong": EVENTS["pong"],
}

CATALOGUES = {"activity": EVENTS, "sheet": SHEET_EVENTS, "room": ROOM_EVENTS}


@cache
def _validator(catalogue: str, type_: str):
    from jsonschema import Draft202012Validator

    schema = CATALOGUES[catalogue][type_]
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def check_event(event: object, catalogue: str = "activity") -> str:
    """The event's type, if the catalogue (`activity`: the activity socket's, `sheet`: the
    comment sheet's, `room`: the live room's) has it and the event matches its schema; else
    MalformedEvent saying what is wrong."""
    if not isinstance(event, dict) or event.get("type") not in CATALOGUES[catalogue]:
        raise MalformedEvent(f"not an event of the {catalogue} catalogue: {event!r}")
    errors = sorted(_validator(catalogue, event["type"]).iter_errors(event), key=lambda error: list(error.path))
    if errors:
        where = "; ".join(f"{'.'.join(map(str, error.path)) or '(event)'}: {error.message}" for error in errors)
        raise MalformedEvent(f"{event['type']} event {event!r}: {where}")
    return event["type"]


def check_sent(event: object, catalogue: str = "activity") -> None:
    """Where an event is sent: `check_event` when `REALTIME_CHECK_EVENTS` is on (the test
    settings), so a malformed event fails the code that built it; nothing in production."""
    if settings.REALTIME_CHECK_EVENTS:
        check_event(event, catalogue)
