"""This worker's live rooms: what the room sockets (`lives.room_socket`) of one live show, kept
and written by one `Room` a live.

Each worker keeps one `Room` per live it has viewers of, and one task per room that ticks and
writes one frame, made once, to every local viewer. The room follows the live's topic on the event
streams (`lives.topics`): each tap commit's total and likers, each comment, removal and entry, the
start and the end, from whichever worker committed them, kept as they come. It reads the record
(the database) when it starts, when the hub says it may have missed some of the topic, and every
CHECK_EVERY (a camera's pause is only there: the time since its last chunk); and it says how many
viewers it holds, and reads the room's count, every PRESENCE_EVERY. Totals only grow (the larger of
what it heard and read wins), so two workers show one total, and a killed worker's viewers
reconnect to another with nothing lost.
"""

import asyncio
import contextvars
import json
import logging
import random
import time
from collections import deque
from datetime import datetime
from typing import TYPE_CHECKING

from channels.db import database_sync_to_async
from django.utils import timezone

from miniapp.lives import room, topics
from miniapp.lives.models import RoomEvent
from miniapp.lives.runner import ORIGIN
from miniapp.realtime import frames
from miniapp.realtime.hub import hub
from miniapp.realtime.schema import check_sent

if TYPE_CHECKING:
    from miniapp.lives.room_socket import RoomConsumer

log = logging.getLogger(__name__)

UNEXPECTED = 1011  # a viewer's room failed: its page comes back, to a new one
TICK = 0.25  # seconds: at most one room frame a tick
# Seconds: the room's record is read at least this often, for what its topic does not tell (a
# camera's pause), and to mend what a message that went missing unnoticed would have left wrong.
CHECK_EVERY = 1.0
EARLY_MAX = 1000  # messages heard before the room's first read, kept for it (past that: a gap)
FOLLOW_TIMEOUT = 1.0  # seconds a new room waits to learn where its topic stands
# Sockets written between two turns of the event loop: about 1 ms of writes, so what comes
# meanwhile (a tap request, a socket's message) waits no longer. Traced at 5,000 viewers, a tap
# request's wait from its arrival to its application's start was 10 ms at p99 with 200, 5 with 50.
YIELD_EVERY = 50
# Frames a socket gets in a tick, at most (about 20 a second): past that, entry notices go first,
# then comments are sampled. The status, removals and the host's and moderators' comments are
# never dropped; the room frame is one a tick already (a socket's delta covers what it missed).
PER_TICK = 5
NOTICE_EVERY = 1.0  # seconds: one entry of a non-friend told to the room at most this often
ENTER_AGAIN = 60.0  # seconds: a viewer coming back sooner (a flaky network, a reload) is not told again
RECENT_EVENTS = 2000  # event ids a room remembers having sent


def frame_text(frame: dict) -> str:
    """A frame as the socket sends it, checked against the room's catalogue (`check_sent`)."""
    check_sent(frame, "room")
    return json.dumps(frame, ensure_ascii=False)


def _read(live_id: int, first: bool, gap: tuple[int, datetime | None] | None):
    """A reading of the record, in one thread hop: the room's state; on the `first` read,
    where the room's events stand (those before are not news); after a `gap` in its topic, the
    events after it (`gap`: the last event id heard before, and when it was heard: those
    written since may have committed late), the last row's id and whether more may follow.
    And when this was."""
    now = timezone.now()
    state = room.room_state(live_id)
    if state is None:
        return state, [], None, False, now
    if first:
        return state, [], room.event_position(live_id), False, now
    if gap is None:
        return state, [], None, False, now
    events, last, more = room.events_since(live_id, after=gap[0], since=gap[1])
    return state, events, last, more, now


def _remember(recent: deque[int], known: set[int], value: int) -> None:
    """Add `value` to a bounded memory of ids (the deque's order, the set's lookups)."""
    if len(recent) == recent.maxlen:
        known.discard(recent[0])
    recent.append(value)
    known.add(value)


class Room:
    """One live's viewers on this worker, and what they were last told."""

    def __init__(self, live_id: int):
        self.live_id = live_id
        self.sockets: set[RoomConsumer] = set()
        self.state: room.RoomState | None = None  # as heard and read
        self.read_at = 0.0  # loop time of the last read of the record
        self.stale = True  # the record is to be read: first, or the topic's messages may have been missed
        self.following = False
        self.reading = asyncio.Lock()
        self.early: list[dict] = []  # heard before the first read
        self.status_heard_at = 0.0  # loop time the topic last told the status
        self.told_status: str | None = None  # the status the sockets were last told
        self.viewers = 0  # the room's, all workers
        self.said: tuple[int, float] = (-1, 0.0)  # what this worker last said it holds, and when
        self.task: asyncio.Task | None = None
        self.events_after: int | None = None  # the newest event id heard or read (None: before the first read)
        self.heard_at: datetime | None = None  # when the topic last told something (or the first read was)
        # Where the topic may have lost events: after this id, and since then (None: no gap).
        self.gap: tuple[int | None, datetime | None] | None = None
        self.sent: deque[int] = deque(maxlen=RECENT_EVENTS)
        self.sent_set: set[int] = set()
        self.gone: deque[int] = deque(maxlen=RECENT_EVENTS)  # comments removed, lately
        self.gone_set: set[int] = set()
        self.events: list[tuple[int, str, dict]] = []  # heard or read, not yet sent
        self.noticed_at = 0.0  # when a non-friend's entry was last told

    async def current(self) -> room.RoomState | None:
        """The state as of now: read first if the room has not read it yet (or may have missed
        some of its topic)."""
        await self.refresh()
        return self.state

    async def refresh(self, *, check: bool = False) -> None:
        """Read the record if the room has not (or may have missed some of its topic), or with
        `check` if it is CHECK_EVERY since the last read. The topic is followed from before the
        first read: what is told after it is heard."""
        async with self.reading:
            loop = asyncio.get_running_loop()
            if not (self.stale or (check and loop.time() - self.read_at >= CHECK_EVERY)):
                return
            if not self.following:
                self.following = True
                # (Redis away: read from a few seconds back, and the record is read each second.)
                await hub.follow(topics.topic(self.live_id), self.heard, timeout=FOLLOW_TIMEOUT)
            await self.read()

    async def read(self) -> None:
        started = asyncio.get_running_loop().time()
        missed, self.stale = self.stale, False  # (what goes missing from now on sets it again)
        first = self.events_after is None
        gap, self.gap = (self.gap if missed else None), None
        try:
            state, events, last, more, read_at = await database_sync_to_async(_read)(
                self.live_id, first, None if first else gap
            )
        except BaseException:
            self.stale = self.stale or missed
            self.gap = gap or self.gap  # (the older gap holds the newer)
            raise
        self.read_at = started
        if state is not None and first:
            self.events_after, self.heard_at = last, self.heard_at or read_at
            if gap is not None or self.gap is not None:  # lost while this read ran: what came after it
                self.gap, self.stale = (last, read_at), True
        elif gap is not None:
            for event in events:
                self.take_event(*event)
            if more:  # the next page at the next tick
                self.gap = (last, None) if self.gap is None else (min(last, self.gap[0]), self.gap[1])
                self.stale = True
        if state is None or self.state is None:
            self.state = state
        else:  # what was heard meanwhile stays: totals only grow, and a status heard since is newer
            if state.likes >= self.state.likes:  # the record's likers are the latest (two workers'
                self.state.likes, self.state.likers = state.likes, state.likers  # messages may cross)
            if self.status_heard_at <= started and self.state.status != "ended":
                self.state.status = state.status
        if self.told_status is None and self.state is not None:
            self.told_status = self.state.status
        early, self.early = self.early, []
        for message in early:
            self.heard(message)

    def heard(self, message: dict | None) -> None:
        """A message of the live's topic (`lives.topics`); None: some may have been missed."""
        if message is None:
            if self.gap is None:
                self.gap = (self.events_after, self.heard_at)
            self.stale = True
            return
        if self.state is None:
            if len(self.early) < EARLY_MAX:
                self.early.append(message)
            else:
                self.heard(None)
            return
        self.heard_at = timezone.now()
        if "likes" in message and message["likes"] > self.state.likes:
            self.state.likes = message["likes"]
            self.state.likers = topics.latest_likers(message["likers"], self.state.likers)
        if "status" in message and self.state.status != "ended":
            self.state.status = message["status"]
            self.status_heard_at = asyncio.get_running_loop().time()
        if "event" in message:
            event_id, kind, frame = message["event"]
            self.events_after = max(self.events_after or 0, event_id)
            self.take_event(event_id, kind, frame)

    def take_event(self, event_id: int, kind: str, frame: dict) -> None:
        """A room event to send at the next tick, unless it was sent already, or is a comment
        removed since (its removal may come first: the comment's publish was held, say)."""
        if event_id in self.sent_set:
            return
        if kind == RoomEvent.Kind.COMMENT and frame["id"] in self.gone_set:
            return
        if kind == RoomEvent.Kind.GONE:
            _remember(self.gone, self.gone_set, frame["id"])
            self.events = [
                event for event in self.events if event[1] != RoomEvent.Kind.COMMENT or event[2]["id"] != frame["id"]
            ]
        _remember(self.sent, self.sent_set, event_id)
        self.events.append((event_id, kind, frame))

    async def tell_presence(self, *, force: bool = False) -> None:
        """Say how many viewers this worker holds, when that changed (or it is time to), and
        read the room's count."""
        now = asyncio.get_running_loop().time()
        held, (said, said_at) = len(self.sockets), self.said
        if force or (held != said and now - said_at >= room.PRESENCE_MIN_GAP) or now - said_at >= room.PRESENCE_EVERY:
            self.viewers = await database_sync_to_async(room.presence_say)(
                live_id=self.live_id, worker=ORIGIN, viewers=held
            )
            self.said = (held, now)

    async def run(self) -> None:
        """Tick while this worker has viewers of the live."""
        loop = asyncio.get_running_loop()
        begun = loop.time()
        try:
            while self.sockets:
                await asyncio.sleep(TICK - (loop.time() - begun) % TICK)
                if not self.sockets:
                    break
                try:
                    await self.refresh(check=True)
                    await self.tell_presence()
                except Exception:  # the database away: try again next tick
                    log.warning("live %s: the room could not read its state", self.live_id, exc_info=True)
                    continue
                await self.broadcast()
                if self.state is None or self.state.status == "ended":
                    for socket in tuple(self.sockets):
                        socket.end()
                    break
        except Exception:
            # Nothing should get here; if something does, its viewers must not stay on a room
            # that no longer ticks: closed (1011), their pages come back to a new one.
            log.exception("live %s: the room's task failed; its viewers are sent to reconnect", self.live_id)
            for socket in tuple(self.sockets):
                socket.end(code=UNEXPECTED)
        finally:
            if rooms.rooms.get(self.live_id) is self:
                del rooms.rooms[self.live_id]
            if self.following:
                hub.unfollow(topics.topic(self.live_id), self.heard)
            try:
                await database_sync_to_async(room.presence_say)(live_id=self.live_id, worker=ORIGIN, viewers=0)
            except Exception:
                log.warning("live %s: could not take this worker's viewers out", self.live_id, exc_info=True)

    async def broadcast(self) -> None:
        state, events, self.events = self.state, self.events, []
        if state is None:
            await self.write({"type": "status", "status": "ended"})
            return
        if state.status != self.told_status:
            self.told_status = state.status
            await self.write({"type": "status", "status": state.status})
        gone = [frame for _, kind, frame in events if kind == RoomEvent.Kind.GONE]
        comments = [frame for _, kind, frame in events if kind == RoomEvent.Kind.COMMENT]
        kept = [frame for frame in comments if frame["staff"]]
        others = [frame for frame in comments if not frame["staff"]]
        room_left = max(0, PER_TICK - 1 - len(kept))
        if len(others) > room_left:  # more than a screen takes in: a sample, in order
            others = sorted(random.sample(others, room_left), key=lambda frame: frame["id"])
        for frame in gone + sorted(kept + others, key=lambda frame: frame["id"]):
            await self.write(frame)
        # A room frame for each socket not yet told these likes and viewers; its delta is the
        # likes since what it was last told, so most sockets share one frame.
        by_delta: dict[int, list[RoomConsumer]] = {}
        for socket in tuple(self.sockets):
            if socket.likes != state.likes or socket.viewers != self.viewers:
                by_delta.setdefault(max(0, state.likes - socket.likes), []).append(socket)
        for delta, sockets in by_delta.items():
            frame = {
                "type": "room",
                "likes": state.likes,
                "delta": delta,
                "viewers": self.viewers,
                "likers": state.likers,
            }
            await self.write(frame, sockets)
        entries = [frame for _, kind, frame in events if kind == RoomEvent.Kind.ENTER]
        left = room_left - len(others)
        if entries and left > 0:
            await self.notice(entries, left)

    async def notice(self, entries: list[dict], left: int) -> None:
        """Tell friends in the room that someone came in ("bob 来了"), and now and then everyone
        of one of the others, with what is left of each socket's frames this tick."""
        viewers: dict[int, list[RoomConsumer]] = {}
        for socket in tuple(self.sockets):
            if socket.user_id is not None:
                viewers.setdefault(socket.user_id, []).append(socket)
        entrants = {frame["user"]["id"]: frame for frame in entries}
        try:
            pairs = await database_sync_to_async(room.friends_among)(set(entrants), set(viewers))
        except Exception:  # the database away: notices are the first thing a tick may drop
            log.warning("live %s: the room could not tell who came in", self.live_id, exc_info=True)
            return
        told: dict[RoomConsumer, int] = {}
        for entrant, friend in sorted(pairs):
            sockets = [socket for socket in viewers.get(friend, ()) if told.get(socket, 0) < left]
            for socket in sockets:
                told[socket] = told.get(socket, 0) + 1
            await self.write(dict(entrants[entrant], friend=True), sockets)
        now = asyncio.get_running_loop().time()
        if now - self.noticed_at >= NOTICE_EVERY:
            self.noticed_at = now
            entrant = random.choice(list(entrants))
            sockets = [
                socket
                for socket in tuple(self.sockets)
                if told.get(socket, 0) < left and socket.user_id != entrant and (entrant, socket.user_id) not in pairs
            ]
            await self.write(dict(entrants[entrant], friend=False), sockets)

    async def write(self, frame: dict, sockets=None) -> None:
        if sockets is not None and not sockets:
            return
        message = frames.Message(frame_text(frame))
        likes = frame.get("likes")
        for sent, socket in enumerate(tuple(self.sockets) if sockets is None else sockets, start=1):
            if not socket.greeted and socket.pending is None:
                continue  # it has not read the room yet: its hello will carry the state
            if likes is not None:
                socket.likes, socket.viewers = max(socket.likes, likes), frame["viewers"]
            try:
                pending = socket.push(message)
                if pending is not None:
                    await pending
            except Exception:  # a socket closing under us must not stop the others
                log.debug("a room frame to a closing socket failed", exc_info=True)
            if sent % YIELD_EVERY == 0:
                await asyncio.sleep(0)


class Rooms:
    """This worker's rooms, by live id."""

    def __init__(self):
        self.rooms: dict[int, Room] = {}
        self.entered: dict[tuple[int, int], float] = {}  # (live, user) -> when their coming in was told
        self.entered_pruned = 0.0

    def comes_in(self, live_id: int, user_id: int) -> bool:
        """Whether a signed-in viewer's coming in is news: not within ENTER_AGAIN of the last time
        this worker told it, so that reconnects and reloads make no row, no message and no "来了"
        each (a room whose last viewer left is made anew, so this is kept here)."""
        now, key = time.monotonic(), (live_id, user_id)
        if key in self.entered and now - self.entered[key] < ENTER_AGAIN:
            return False
        if now - self.entered_pruned >= ENTER_AGAIN:  # once a while, those told long enough ago go
            self.entered_pruned = now
            self.entered = {told: at for told, at in self.entered.items() if now - at < ENTER_AGAIN}
        self.entered[key] = now
        return True

    def join(self, live_id: int, socket: "RoomConsumer") -> Room:
        loop = asyncio.get_running_loop()
        found = self.rooms.get(live_id)
        # A new event loop (the tests start one per test) needs its own room task.
        if found is None or found.task is None or found.task.done() or found.task.get_loop() is not loop:
            found = self.rooms[live_id] = Room(live_id)
        found.sockets.add(socket)
        if found.task is None:
            found.task = loop.create_task(found.run(), context=contextvars.Context())
        return found

    def leave(self, found: Room, socket: "RoomConsumer") -> None:
        found.sockets.discard(socket)  # an empty room's task ends at its next tick

    async def stop(self) -> None:
        """Let every room's task end (the tests, before their event loop ends)."""
        tasks = [found.task for found in self.rooms.values() if found.task is not None and not found.task.done()]
        for found in self.rooms.values():
            found.sockets.clear()
        if tasks:
            await asyncio.wait(tasks, timeout=5)
        self.rooms.clear()
        self.entered.clear()


rooms = Rooms()
