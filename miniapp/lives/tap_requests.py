"""`POST /api/lives/{id}/likes/`: the answer to a batch of taps, whichever way the request came.

Hundreds of tappers send a batch every 250 ms, and Django's request cycle (its middleware, the
thread it runs a view in, the session and user read for each request) costs several times what
counting a batch does. So under Daphne the ASGI router sends this one path to a plain ASGI
application (`lives.consumers.TapApp`), which answers from the event loop: the checks below,
then `taps.desk`, whose commit (in a thread of its own) reads every waiting batch's sender at
once. Django's URL for it (`api-live-likes`, `lives.apis.LiveLikeApi`) names and documents it,
and answers it under any other server (the tests' client) with this same function, each batch
in a transaction of its own in the view's thread.

The checks are Django's own, in the order its stack runs them: the Host, the session cookie,
CSRF (`CsrfViewMiddleware`: the Origin, and the token of the cookie in `X-CSRFToken`), then the
body. The language of the answer is the request's, as `LocaleMiddleware` would choose it.
"""

import json
import logging
import re
import time
from collections.abc import Awaitable, Callable

from channels.db import database_sync_to_async
from django.conf import settings
from django.core.exceptions import DisallowedHost, RequestDataTooBig
from django.http import HttpRequest
from django.middleware.csrf import CsrfViewMiddleware
from django.utils import translation
from django.utils.translation import gettext as _
from rest_framework import serializers

from miniapp.lib.api import ID_MAX, body_too_large_message
from miniapp.lib.parsers import JSON_MAX_DEPTH, nesting_exceeds
from miniapp.lib.unavailable import database_unreachable, unavailable_body
from miniapp.lives import taps

log = logging.getLogger(__name__)

# A user's ban, said in the request's language (moderation's, passed in: lives does not know it).
BanMessage = Callable[[int], str]
Count = Callable[[taps.Batch], Awaitable[taps.Answer]]


BATCH_ID = re.compile(r"[A-Za-z0-9_-]{1,40}")


class TapInput(serializers.Serializer):
    taps = serializers.IntegerField(min_value=1, max_value=taps.BATCH_MAX)
    batch = serializers.RegexField(rf"^{BATCH_ID.pattern}$", help_text="the page's id for this batch")


class TapOutput(serializers.Serializer):
    likes = serializers.IntegerField(help_text="the live's total, this batch in")
    counted = serializers.IntegerField(help_text="of this batch's taps, those counted")
    refused = serializers.IntegerField(help_text="of this batch's taps, those over the rate")
    next = serializers.IntegerField(help_text="milliseconds to gather taps before the next batch (the room's pace)")
    detail = serializers.CharField(required=False, help_text="why taps were refused")


class Pace:
    """How long a page gathers taps before it sends the next batch: 250 ms in a quiet room,
    longer as more viewers tap, so that a room asks a worker for about REQUESTS_PER_SECOND tap
    requests a second however many tap (each of them still a request per PACE_MOST at least).
    A tap's heart is drawn on its own screen at once; the others see it up to one pace and a
    tick later. The tappers counted are those whose batches reached this worker in the last
    WINDOW seconds."""

    REQUESTS_PER_SECOND = 200
    PACE_LEAST, PACE_MOST = 250, 2000  # milliseconds
    WINDOW = 3.0

    def __init__(self):
        self.seen: dict[int, dict[str, float]] = {}  # live -> {session key: its last batch}
        self.pruned = 0.0

    def next(self, live_id: int, session_key: str) -> int:
        """The pace for this session's next batch in the live, in milliseconds."""
        now = time.monotonic()
        if now - self.pruned > self.WINDOW:  # those who stopped tapping (within WINDOW to 2 WINDOW)
            self.pruned = now
            recent = {
                live: {key: at for key, at in seen.items() if now - at < self.WINDOW}
                for live, seen in self.seen.items()
            }
            self.seen = {live: seen for live, seen in recent.items() if seen}
        seen = self.seen.setdefault(live_id, {})
        seen[session_key] = now
        pace = 1000 * len(seen) / self.REQUESTS_PER_SECOND
        return int(min(self.PACE_MOST, max(self.PACE_LEAST, round(pace / 50) * 50)))


class RequestRate:
    """TAP_RATE: a session's tap requests a minute on this worker (a fixed window), over which
    they are answered 429 before anything is counted. The taps themselves have their own cap,
    per user across workers (`taps.TAPS_PER_SECOND`)."""

    KEPT = 10_000  # windows kept before those that are over are forgotten
    PRUNE_EVERY = 1.0  # seconds: at most this often (keys are cookies, before any check: anyone's to make)

    def __init__(self):
        self.windows: dict[str, tuple[float, int]] = {}
        self.pruned = 0.0

    def allow(self, key: str) -> bool:
        count, period = settings.TAP_RATE.split("/")  # as DRF's throttles read it: "600/minute"
        most, seconds = int(count), {"s": 1, "m": 60, "h": 3600, "d": 86400}[period[0]]
        now = time.monotonic()
        start, count = self.windows.get(key, (now, 0))
        if now - start >= seconds:
            start, count = now, 0
        if count >= most:
            return False
        if len(self.windows) > self.KEPT and now - self.pruned >= self.PRUNE_EVERY:
            self.pruned = now
            self.windows = {k: v for k, v in self.windows.items() if now - v[0] < seconds}
        self.windows[key] = (start, count + 1)
        return True


rate = RequestRate()
pace = Pace()


async def answer_taps(
    request: HttpRequest, live_id: int, *, count: Count, on_first: taps.FirstLike, ban_message: BanMessage
) -> tuple[int, dict]:
    """(HTTP status, JSON body) for a request to count a batch of taps, counted by `count`:
    `taps.desk.count` on the event loop, `taps.count_here` from a sync view."""
    with translation.override(translation.get_language_from_request(request)):
        try:
            return await _answer(request, live_id, count=count, on_first=on_first, ban_message=ban_message)
        except Exception as error:
            if not database_unreachable(error):
                raise
            log.error("database unavailable during a tap request: %s", error)
            return 503, unavailable_body()


async def _answer(request, live_id, *, count, on_first, ban_message) -> tuple[int, dict]:
    if request.method != "POST":
        return 405, {"detail": _('Method "%(method)s" not allowed.') % {"method": request.method}}
    if live_id > ID_MAX:  # no live's: and the commit's plain SQL must not get it (SQLite cannot take it)
        return 404, {"detail": _("No such live.")}
    try:
        request.get_host()
    except DisallowedHost:
        return 400, {"detail": _("This host is not served here.")}
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if not session_key:
        return 403, {"detail": _("Authentication credentials were not provided.")}
    if CsrfViewMiddleware(_no_view).process_view(request, None, (), {}) is not None:
        return 403, {"detail": _("CSRF check failed: reload the page and try again.")}
    if not rate.allow(session_key):
        return 429, {"detail": _("Request was throttled.")}
    if request.content_type != "application/json":
        return 415, {"detail": _('Unsupported media type "%(type)s": send JSON.') % {"type": request.content_type}}
    try:
        request.body  # noqa: B018 (Django refuses a body past DATA_UPLOAD_MAX_MEMORY_SIZE as it reads it)
    except RequestDataTooBig:
        return 413, {"detail": body_too_large_message()}
    data, problem = _parsed(request)
    if problem:
        return 400, {"detail": problem}
    checked = _plainly_valid(data)
    if checked is None:
        serializer = TapInput(data=data)
        if not serializer.is_valid():
            detail = _("Send `taps` (1 to %(most)d) and `batch`, an id of 1 to 40 letters, digits, - or _.") % {
                "most": taps.BATCH_MAX
            }
            return 400, {"detail": detail, **serializer.errors}
        checked = serializer.validated_data["taps"], serializer.validated_data["batch"]
    tapped, batch_id = checked
    batch = taps.Batch(live_id=live_id, taps=tapped, batch=batch_id, session_key=session_key, on_first=on_first)
    answer = await count(batch)
    status, body = await _said(answer, ban_message)
    if answer.counted is not None:
        body["next"] = pace.next(live_id, session_key)
    return status, body


async def _said(answer: taps.Answer, ban_message: BanMessage) -> tuple[int, dict]:
    match answer.refused:
        case taps.Refused.SIGNED_OUT:
            return 403, {"detail": _("Authentication credentials were not provided.")}
        case taps.Refused.BANNED:
            return 403, {"detail": await database_sync_to_async(ban_message)(answer.user_id)}
        case taps.Refused.NO_LIVE:
            return 404, {"detail": _("No such live.")}
        case taps.Refused.NOT_ON_AIR:
            return 400, {"detail": _("This live is not on air: likes count only while it is."), "status": answer.status}
    counted = answer.counted
    body = {"likes": counted.likes, "counted": counted.taps, "refused": counted.refused}
    if counted.refused:
        body["detail"] = _("Too many taps: at most %(most)d a second count.") % {"most": taps.TAPS_PER_SECOND}
    return (429 if counted.refused and not counted.taps else 200), body


def _plainly_valid(data) -> tuple[int, str] | None:
    """(taps, batch id) of a body as the page sends it, which `TapInput` would take as it is;
    None for anything else, which `TapInput` then judges (a number as text, say, or the errors).
    A serializer deep-copies its fields for each instance: on the event loop, a fifth of a tap
    request's time (py-spy, bench/live_room.py)."""
    if type(data) is dict:
        count, name = data.get("taps"), data.get("batch")
        if type(count) is int and 1 <= count <= taps.BATCH_MAX and type(name) is str and BATCH_ID.fullmatch(name):
            return count, name
    return None


def _parsed(request) -> tuple[object, str]:
    """The JSON body, or what is wrong with it (as `lib.parsers.JSONParser` says it)."""
    try:
        data = json.loads(request.body or b"null")
        too_deep = nesting_exceeds(data, JSON_MAX_DEPTH)
    except RecursionError:
        too_deep = True
    except ValueError as error:
        return None, _("JSON parse error - %(error)s") % {"error": error}
    if too_deep:
        limit = {"limit": JSON_MAX_DEPTH}
        return None, _("The JSON body is nested too deeply: at most %(limit)d levels of lists and objects.") % limit
    return data, ""


def _no_view(request):  # CsrfViewMiddleware's get_response: never called by process_view
    return None
