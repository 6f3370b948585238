"""The one path by which every writer pushes an event to users' sockets.

A service calls `send_event_on_commit(recipients=[user ids], event={...})`, the event
made by its builder (every type is catalogued in `realtime.schema`). Once the transaction
commits (never before, never for a rollback) the event goes to the streams of its recipients
(`realtime.streams`: one entry a stream, all added in one round trip), and each worker's hub
(`realtime.hub`), which reads only the streams of the users whose sockets it holds, hands it to
those sockets. The push is a hint: the database is the record, and sockets catch up from it
when their worker missed entries.

In an HTTP request the events wait for its response to be sent (`EventsAfterResponse`):
the user's own answer does not queue behind the fan-out of what they did.

Inside `with events_batch():` (a takedown, a ban: many retractions at once) the events
sent go together, in one entry a stream, once the transaction commits.

A session that ends takes the same path to close its sockets on every worker
(`send_signout_on_commit`).
"""

import asyncio
import json
import logging
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from miniapp.realtime import streams
from miniapp.realtime.auth import session_digest
from miniapp.realtime.schema import check_sent

log = logging.getLogger(__name__)

PUBLISH_ATTEMPTS = 3

# (recipients, None for every socket, or a topic's name; the event, or the topic's message)
Delivery = tuple[list[int] | str | None, dict]

_bus: "streams.MemoryStreams | streams.RedisStreams | streams.NodeStreams | None" = None
_bus_lock = threading.Lock()


def bus() -> "streams.MemoryStreams | streams.RedisStreams | streams.NodeStreams":
    """This process's event streams: in Redis when REDIS_URL is set (over the servers of
    REALTIME_STREAM_URLS when it names several), else in memory."""
    global _bus
    with _bus_lock:
        if _bus is None:
            urls, maxlen = settings.REALTIME_STREAM_URLS, settings.REALTIME_STREAM_MAXLEN
            if len(urls) > 1:
                _bus = streams.NodeStreams(urls, maxlen=maxlen)
            elif urls:
                _bus = streams.RedisStreams(urls[0], maxlen=maxlen)
            else:
                _bus = streams.MemoryStreams(maxlen=maxlen)
        return _bus


def stream_of(user_id: int) -> str:
    return streams.shard_of(user_id, settings.REALTIME_SHARDS)


def payloads(deliveries: list[Delivery]) -> dict[str, str]:
    """The events, split by their recipients' streams: {stream: the JSON of {"deliveries":
    [[recipients, [event, ...]], ...]}}, each stream's entry naming only its own recipients. An
    event for every socket goes to `streams.EVERYONE`, a topic's message to the topic's own
    stream (its name: `["live.7", [message, ...]]`). Events in a row with the same recipients
    go together. Each event is made JSON once, however many streams it goes to."""
    split: dict[str, list[tuple[str, list[str]]]] = defaultdict(list)
    shards = settings.REALTIME_SHARDS
    for recipients, event in deliveries:
        text = _json(event)
        if recipients is None:
            parts = {streams.EVERYONE: "null"}
        elif isinstance(recipients, str):
            parts = {recipients: _json(recipients)}
        else:
            parts = {stream: _json(theirs) for stream, theirs in streams.by_shard(recipients, shards).items()}
        for stream, theirs in parts.items():
            entry = split[stream]
            if entry and entry[-1][0] == theirs:
                entry[-1][1].append(text)
            else:
                entry.append((theirs, [text]))
    return {
        stream: '{"deliveries":[' + ",".join(f"[{theirs},[{','.join(texts)}]]" for theirs, texts in entry) + "]}"
        for stream, entry in split.items()
    }


def signout_payload(*, user_id: int, session: str | None) -> dict[str, str]:
    """The entry that closes a user's sockets (`send_signout_on_commit`), in the user's stream."""
    return {stream_of(user_id): _json({"signout": [user_id, session]})}


CATCH_UP = {streams.EVERYONE: '{"catch_up":true}'}


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def publish(deliveries: list[Delivery]) -> None:
    """Add events to their recipients' streams (one round trip). Failures are logged, never
    raised: the write already committed, and a worker that misses entries catches up from the
    database.

    Inside an HTTP request (`EventsAfterResponse`) they wait until its response is sent."""
    held = _held.get()
    if held is not None and held.hold(deliveries):
        return
    _send(payloads(deliveries), f"{len(deliveries)} event(s)")


async def apublish(deliveries: list[Delivery]) -> None:
    """`publish` from the event loop."""
    await _asend(payloads(deliveries), f"{len(deliveries)} event(s)")


class Unsent:
    """Entries whose adding failed (Redis away from this process), added again before the next
    ones: by the next publish, or by this worker's hub within a read (`hub.listen`). Their
    recipients' workers then hear of them late rather than never. Past UNSENT_MAX entries they are
    dropped for one marker to every worker's hub: have every socket catch up from the database."""

    def __init__(self):
        self.entries: list[dict[str, str]] = []
        self.lock = threading.Lock()

    def take(self) -> list[dict[str, str]]:
        with self.lock:
            taken, self.entries = self.entries, []
        return taken

    def put_back(self, taken: list[dict[str, str]]) -> None:
        with self.lock:
            self.entries[:0] = taken
            self._bound()

    def _bound(self) -> None:
        if len(self.entries) > UNSENT_MAX:
            self.entries = [CATCH_UP]


UNSENT_MAX = 1000
unsent = Unsent()


def _send(entries: dict[str, str], what: str) -> None:
    # Again on failure: after Redis restarts, each pooled connection fails once before the
    # pool opens a new one. Of a batch only what was not added goes again (`streams.NotAdded`:
    # one node of several away), so nothing is added twice. (It would be harmless all the
    # same: clients drop an entry whose `seq` they already have, and a socket closes once.)
    pending = [*unsent.take(), entries]
    for attempt in range(PUBLISH_ATTEMPTS):
        rest = []
        for index, batch in enumerate(pending):
            try:
                bus().add_now(batch)
            except streams.NotAdded as error:
                rest.append(error.rest)
            except Exception:  # the server is away: what follows waits as it is
                rest += pending[index:]
                break
        if not (pending := rest):
            return
        _failed(attempt, what, pending)


async def _asend(entries: dict[str, str], what: str) -> None:
    pending = [*unsent.take(), entries]
    for attempt in range(PUBLISH_ATTEMPTS):
        if not (pending := await _add(pending)):
            return
        _failed(attempt, what, pending)


async def _add(pending: list[dict[str, str]]) -> list[dict[str, str]]:
    """Add the batches in order; what was not added, in order (`_send`'s loop, on the event loop)."""
    rest = []
    for index, batch in enumerate(pending):
        try:
            await bus().add(batch)
        except streams.NotAdded as error:
            rest.append(error.rest)
        except Exception:
            return rest + pending[index:]
    return rest


async def add_unsent() -> None:
    """Add again what failed to go (the hub's reader, once Redis answers it)."""
    if rest := await _add(unsent.take()):
        unsent.put_back(rest)
        raise streams.NotAdded({stream: text for batch in rest for stream, text in batch.items()})


def _failed(attempt: int, what: str, pending: list[dict[str, str]]) -> None:
    if attempt + 1 < PUBLISH_ATTEMPTS:
        log.warning("push failed for %s, trying again", what)
        return
    log.error("push failed for %s: it goes when Redis answers again", what)
    unsent.put_back(pending)


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


def send_to_topic_on_commit(topic: str, message: dict) -> None:
    """Once committed, `message` goes to whoever follows `topic` on any worker (`Hub.follow`),
    in order, on the topic's own stream: a live room's record changed, say. Not a socket's event
    but what its follower makes its frames from. A topic is named `<kind>.<id>` (`live.7`)."""
    if not streams.is_topic(topic):
        raise ValueError(f"a topic is named <kind>.<id>, not {topic!r}")
    _send_on_commit((topic, json.loads(json.dumps(message, cls=DjangoJSONEncoder))))


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
    """The events sent inside go to the streams together, one entry a stream, once their
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
        lambda: _send(signout_payload(user_id=user_id, session=session), f"the sign-out of user {user_id}")
    )
