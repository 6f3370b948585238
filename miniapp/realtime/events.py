"""The one path by which every writer pushes an event to users' sockets.

A service calls `send_event_on_commit(recipients=[user ids], event={...})`, the event
made by its builder (every type is catalogued in `realtime.schema`). Once the transaction
commits (never before, never for a rollback) the event goes, as ONE channel-layer message,
to every worker's hub (`realtime.hub`), and each hub hands it to the sockets of those
recipients it holds. The push is a hint: the database is the record, and clients catch up
from it after a gap.

A session that ends takes the same path to close its sockets on every worker
(`send_signout_on_commit`).
"""

import itertools
import json
import logging
import os
import secrets
import socket
import threading

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from miniapp.realtime.auth import session_digest
from miniapp.realtime.schema import check_event

log = logging.getLogger(__name__)

BROADCAST_GROUP = "miniapp.broadcast"
MESSAGE_TYPE = "hub.fanout"
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


def fanout_message(*, recipients: list[int] | None, event: dict) -> dict:
    """The layer message for one event, numbered: the next of this process's messages."""
    return {"type": MESSAGE_TYPE, "recipients": recipients, "event": event, "origin": ORIGIN, "n": next(_numbers)}


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


def publish(*, recipients: list[int] | None, event: dict) -> None:
    """Send one fan-out message to every worker (`recipients` None: to every socket).
    Failures are logged, never raised: the write already committed and clients will
    catch up from the database."""
    _send(fanout_message(recipients=recipients, event=event), f"event {event.get('id')}")


def _send(message: dict, what: str) -> None:
    # Again on failure: after Redis restarts, each pooled connection fails once before the
    # pool opens a new one. (A message sent twice is harmless: clients drop an entry whose
    # `seq` they already have, and a socket closes once.)
    try:
        for attempt in range(PUBLISH_ATTEMPTS):
            try:
                async_to_sync(get_channel_layer().group_send)(BROADCAST_GROUP, message)
                return
            except Exception:
                if attempt + 1 == PUBLISH_ATTEMPTS:
                    log.exception("push failed for %s", what)
                else:
                    log.warning("push failed for %s, trying again", what)
    finally:
        _finished(message["n"])  # sent or given up: the next heartbeat says so


def send_event_on_commit(*, recipients: list[int], event: dict) -> None:
    if not recipients:
        return
    event = _outgoing(event)
    recipients = list(recipients)
    transaction.on_commit(lambda: publish(recipients=recipients, event=event))


def send_event_to_everyone_on_commit(event: dict) -> None:
    """Like `send_event_on_commit`, to every open socket (e.g. a video taken down: pages drop it)."""
    event = _outgoing(event)
    transaction.on_commit(lambda: publish(recipients=None, event=event))


def _outgoing(event: dict) -> dict:
    # Round-trip through JSON now, so a value that cannot travel fails in the
    # service (and in its tests), not later in a worker.
    event = json.loads(json.dumps(event, cls=DjangoJSONEncoder))
    if settings.REALTIME_CHECK_EVENTS:
        check_event(event)
    return event


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
