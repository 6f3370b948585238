"""The one path by which every writer pushes an event to users' sockets.

A service calls `send_event_on_commit(recipients=[user ids], event={...})`, the event
made by its builder (every type is catalogued in `realtime.schema`). Once the transaction
commits (never before, never for a rollback) the event goes, as ONE channel-layer message,
to every worker's hub (`realtime.hub`), and each hub hands it to the sockets of those
recipients it holds. The push is a hint: the database is the record, and clients catch up
from it after a gap.

In an HTTP request the events wait for its response to be sent (`EventsAfterResponse`):
the user's own answer does not queue behind the fan-out of what they did.

Inside `with events_batch():` (a takedown, a ban: many retractions at once) the events
sent go together, as one message, once the transaction commits.

A session that ends takes the same path to close its sockets on every worker
(`send_signout_on_commit`).
"""

import asyncio
import itertools
import json
import logging
import os
import secrets
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from miniapp.realtime.auth import session_digest
from miniapp.realtime.schema import check_sent

log = logging.getLogger(__name__)

BROADCAST_GROUP = "miniapp.broadcast"
# A fan-out message: events and who gets them, [[recipients, [event, ...]], ...]. (It was
# one event a message, "hub.fanout", before: in a rolling restart a worker ignores the
# other kind's, sees the gap in that publisher's numbers and catches up from the database.)
MESSAGE_TYPE = "hub.events"
BEAT_TYPE = "hub.beat"
SIGNOUT_TYPE = "hub.signout"

# Every message names its publisher (this process) and numbers it, so that a hub which
# misses one (a full channel, a Redis restart, a publish that failed) notices at the next,
# an event or this process's heartbeat, and has its sockets catch up from the database.
ORIGIN = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
_numbers = itertools.count(1)
_done = 0  # the highest number this process has finished sending (or given up on)
_done_lock = threading.Lock()
PUBLISH_ATTEMPTS = 3
# A message carries events until their recipients (and the events) add up to this; a batch
# with more goes in several. (One event always goes whole, whatever its recipients.)
MESSAGE_SIZE = 10_000

Delivery = tuple[list[int] | None, dict]  # (recipients, None for every socket; the event)


def fanout_message(*, deliveries: list[Delivery]) -> dict:
    """The layer message for these events, numbered: the next of this process's messages.
    An event goes with the one before it when they have the same recipients."""
    parts: list[list] = []
    for recipients, event in deliveries:
        if parts and parts[-1][0] == recipients:
            parts[-1][1].append(event)
        else:
            parts.append([recipients, [event]])
    return {"type": MESSAGE_TYPE, "deliveries": parts, "origin": ORIGIN, "n": next(_numbers)}


def signout_message(*, user_id: int, session: str | None) -> dict:
    """The layer message that closes a user's sockets (`send_signout_on_commit`), numbered too:
    a hub that misses one notices, and its sockets check their sessions as they catch up."""
    return {"type": SIGNOUT_TYPE, "user": user_id, "session": session, "origin": ORIGIN, "n": next(_numbers)}


def beat_message() -> dict:
    """A heartbeat (`realtime.hub`): up to which number this process is done, so that a hub
    hears of a lost message within a beat, not at this process's next event. It takes no
    number itself: a beat that does not get through loses nothing."""
    return {"type": BEAT_TYPE, "origin": ORIGIN, "done": _done}


def _finished(number: int) -> None:
    global _done
    with _done_lock:
        _done = max(_done, number)


def publish(deliveries: list[Delivery]) -> None:
    """Send events to every worker, in one message (several past MESSAGE_SIZE).
    Failures are logged, never raised: the write already committed and clients will
    catch up from the database.

    Inside an HTTP request (`EventsAfterResponse`) they wait until its response is sent."""
    held = _held.get()
    if held is not None and held.hold(deliveries):
        return
    for message, what in _messages(deliveries):
        _send(message, what)


async def apublish(deliveries: list[Delivery]) -> None:
    """`publish` from the event loop."""
    for message, what in _messages(deliveries):
        await _asend(message, what)


def _messages(deliveries: list[Delivery]) -> Iterator[tuple[dict, str]]:
    chunk: list[Delivery] = []
    size = 0
    for recipients, event in deliveries:
        cost = 1 + len(recipients or ())
        if chunk and size + cost > MESSAGE_SIZE:
            yield fanout_message(deliveries=chunk), f"{len(chunk)} event(s)"
            chunk, size = [], 0
        chunk.append((recipients, event))
        size += cost
    if chunk:
        yield fanout_message(deliveries=chunk), f"{len(chunk)} event(s)"


def _send(message: dict, what: str) -> None:
    try:
        async_to_sync(_asend)(message, what)
    except RuntimeError:  # called from a thread running an event loop: a caller's mistake, logged
        log.exception("push failed for %s", what)
        _finished(message["n"])


async def _asend(message: dict, what: str) -> None:
    # Again on failure: after Redis restarts, each pooled connection fails once before the
    # pool opens a new one. (A message sent twice is harmless: clients drop an entry whose
    # `seq` they already have, and a socket closes once.)
    try:
        for attempt in range(PUBLISH_ATTEMPTS):
            try:
                await get_channel_layer().group_send(BROADCAST_GROUP, message)
                return
            except Exception:
                if attempt + 1 == PUBLISH_ATTEMPTS:
                    log.exception("push failed for %s", what)
                else:
                    log.warning("push failed for %s, trying again", what)
    finally:
        _finished(message["n"])  # sent or given up: the next heartbeat says so


class _Held:
    """The events an HTTP request committed, until its response is sent."""

    def __init__(self):
        self.deliveries: list[Delivery] = []
        self.sent = False  # the response went (or never will): publish at once from now on
        self.lock = threading.Lock()  # the view's thread holds, the event loop releases

    def hold(self, deliveries: list[Delivery]) -> bool:
        with self.lock:
            if not self.sent:
                self.deliveries.extend(deliveries)
            return not self.sent

    def release(self) -> list[Delivery]:
        with self.lock:
            self.sent = True
            deliveries, self.deliveries = self.deliveries, []
        return deliveries


# The request under way in this task (and the threads it runs its view in).
_held: ContextVar[_Held | None] = ContextVar("realtime_events_held", default=None)


class EventsAfterResponse:
    """ASGI middleware for HTTP: the events a request commits go out once its response is
    sent, not before. In one process the user's own response then comes first: a like's
    fan-out to a thousand local sockets no longer holds the liker's answer on the event
    loop, and the publish itself is awaited on the loop, with no thread hop.

    The held events go when the last body message is sent, or when the request ends
    without one (an error, the client gone); a commit after that (a view still running
    in its thread after the client left) publishes at once, as outside a request."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        with holding() as held:

            async def send_then_publish(message):
                await send(message)
                if message["type"] == "http.response.body" and not message.get("more_body"):
                    publish_held(held)

            try:
                await self.app(scope, receive, send_then_publish)
            finally:
                publish_held(held)


_publishing: set[asyncio.Task] = set()


@contextmanager
def holding() -> Iterator[_Held]:
    """The events committed inside are held, for the caller to publish from its event loop
    (`publish_held`): a request's until its response is sent (`EventsAfterResponse`), the
    commits of a thread of its own (the live rooms' tap desk) until their answers are."""
    held = _Held()
    token = _held.set(held)
    try:
        yield held
    finally:
        _held.reset(token)


def publish_held(held: _Held) -> None:
    """Publish what `held` holds, from the running event loop, in a task of its own: Django
    cancels a request's task when the client hangs up, which a client that has its answer may
    do at once, and a publish awaiting Redis then would be."""
    if deliveries := held.release():
        task = asyncio.get_running_loop().create_task(apublish(deliveries))
        _publishing.add(task)  # the loop keeps only a weak reference to a task
        task.add_done_callback(_publishing.discard)


def send_event_on_commit(*, recipients: list[int], event: dict) -> None:
    if not recipients:
        return
    _send_on_commit((list(recipients), _outgoing(event)))


def send_event_to_everyone_on_commit(event: dict) -> None:
    """Like `send_event_on_commit`, to every open socket (e.g. a video taken down: pages drop it)."""
    _send_on_commit((None, _outgoing(event)))


def _outgoing(event: dict) -> dict:
    # Round-trip through JSON now, so a value that cannot travel fails in the
    # service (and in its tests), not later in a worker.
    event = json.loads(json.dumps(event, cls=DjangoJSONEncoder))
    check_sent(event)
    return event


# The events of the `events_batch()` under way in this thread (or task), once committed.
_batch: ContextVar[list[Delivery] | None] = ContextVar("realtime_event_batch", default=None)


def _send_on_commit(delivery: Delivery) -> None:
    batch = _batch.get()
    if batch is None:
        transaction.on_commit(lambda: publish([delivery]))
    else:
        # Into the batch once committed: an event sent in a savepoint that rolls back never is.
        transaction.on_commit(lambda: batch.append(delivery))


@contextmanager
def events_batch() -> Iterator[None]:
    """The events sent inside go to the channel layer together, as one message, once their
    transaction commits (then after the events' own hooks, which collect them). Inside
    another batch, this one is part of it."""
    if _batch.get() is not None:
        yield
        return
    collected: list[Delivery] = []
    token = _batch.set(collected)
    try:
        yield
    finally:
        _batch.reset(token)
        # Also after an error: the transaction's rollback (if any) drops this hook with the events'.
        transaction.on_commit(lambda: collected and publish(collected))


def send_signout_on_commit(*, user_id: int, session_key: str | None = None) -> None:
    """Once committed, close `user_id`'s sockets (4401) on every worker: those on session
    `session_key` (a sign-out), or with None each socket of the user whose session no longer
    signs them in (a password change, the user signed out everywhere or deleted), which each
    socket asks the database. Failures are logged, never raised: each worker also looks for
    its sockets' sessions every SOCKET_SESSION_CHECK_SECONDS, and after a lost message."""
    session = session_digest(session_key) if session_key else None
    transaction.on_commit(
        lambda: _send(signout_message(user_id=user_id, session=session), f"the sign-out of user {user_id}")
    )
