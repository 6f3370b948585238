"""A live room's topic on the event streams: what changes the room, told as it commits to the room
of every worker holding its viewers (`lives.room_worker`, which follows it: `realtime.hub.Hub.follow`),
so that no worker reads the room from the database at each tick.

Its messages:
- `{"likes": total, "likers": [{"id", "name", "avatar"}, ...]}`: tap commits counted likes (the total
  once they are in, and their likers, the latest first). A worker's commits into a room are told
  at most every NEWS_EVERY, merged (`LikesNews`): a busy room's stream gets a few entries a second
  from each worker that commits its taps, however many commits that worker makes;
- `{"event": [id, kind, frame]}`: a `RoomEvent` (a comment, a comment removed, a viewer coming in),
  with the frame its viewers get;
- `{"status": "live" | "ended"}`: the live went on air, or ended.
A paused camera is not told: it is the time since its last chunk, which each room reads from the
record every `room_worker.CHECK_EVERY`.
"""

import asyncio
import threading
import time

from miniapp.realtime import events

# Seconds: a worker tells a room's likes at most this often (a tenth of the rooms' tick, so that
# it adds little to a tap's way to the screens), its commits in between merged into one message.
NEWS_EVERY = 0.05
LIKERS_SHOWN = 3  # the latest likers a room shows (`room.likers_of`) and a message tells


def topic(live_id: int) -> str:
    return f"live.{live_id}"


def tell_on_commit(live_id: int, message: dict) -> None:
    """Once committed, every worker's room of the live hears `message`."""
    events.send_to_topic_on_commit(topic(live_id), message)


def latest_likers(newer: list[dict], older: list[dict]) -> list[dict]:
    """The latest LIKERS_SHOWN likers: `newer`'s, then those of `older` not among them."""
    ids = {liker["id"] for liker in newer}
    return (newer + [liker for liker in older if liker["id"] not in ids])[:LIKERS_SHOWN]


class LikesNews:
    """The likes tap commits counted, per live, until they are told: the largest total, and the
    latest likers. Added to from the committing thread once a commit is in (`add`); told at once
    from a view's thread (`tell_now`), or from the desk's event loop at most every NEWS_EVERY
    (`tell_soon`)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.pending: dict[int, dict] = {}
        self.told_at = 0.0  # monotonic
        self.timer: asyncio.TimerHandle | None = None
        self.telling: set[asyncio.Task] = set()

    def add(self, live_id: int, likes: int, likers: list[dict]) -> None:
        with self.lock:
            told = self.pending.get(live_id)
            if told is not None and told["likes"] > likes:  # (two threads' commits, the later first)
                likes, likers, told = told["likes"], told["likers"], {"likers": likers}
            if told is not None:
                likers = latest_likers(likers, told["likers"])
            self.pending[live_id] = {"likes": likes, "likers": likers}

    def _take(self) -> list[events.Delivery]:
        with self.lock:
            pending, self.pending = self.pending, {}
            self.told_at = time.monotonic()
        return [(topic(live_id), message) for live_id, message in sorted(pending.items())]

    def tell_now(self) -> None:
        if deliveries := self._take():
            events.publish(deliveries)

    def tell_soon(self) -> None:
        """On the event loop: tell what is pending now if the last telling is NEWS_EVERY old,
        else then."""
        loop = asyncio.get_running_loop()
        if self.timer is not None and not self.timer.cancelled() and self.timer.when() > loop.time():
            return  # (a timer of this loop, still to come; one of a loop since closed is forgotten)
        self.timer = None
        wait = self.told_at + NEWS_EVERY - time.monotonic()
        if wait > 0:
            self.timer = loop.call_later(wait, self.tell_soon)
            return
        if deliveries := self._take():
            task = loop.create_task(events.apublish(deliveries))
            self.telling.add(task)  # the loop keeps only a weak reference to a task
            task.add_done_callback(self.telling.discard)


news = LikesNews()
