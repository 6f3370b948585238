"""A live room's topic on the event streams: what changes the room, told as it commits to the room
of every worker holding its viewers (`lives.room_socket`, which follows it: `realtime.hub.Hub.follow`),
so that no worker reads the room from the database at each tick.

Its messages:
- `{"likes": total, "likers": [{"id", "name", "avatar"}, ...]}`: a tap commit counted likes (the total
  once they are in, and that commit's likers, the latest first);
- `{"event": [id, kind, frame]}`: a `RoomEvent` (a comment, a comment removed, a viewer coming in),
  with the frame its viewers get;
- `{"status": "live" | "ended"}`: the live went on air, or ended.
A paused camera is not told: it is the time since its last chunk, which each room reads from the
record every `room_socket.CHECK_EVERY`.
"""

from miniapp.realtime import events


def topic(live_id: int) -> str:
    return f"live.{live_id}"


def tell_on_commit(live_id: int, message: dict) -> None:
    """Once committed, every worker's room of the live hears `message`."""
    events.send_to_topic_on_commit(topic(live_id), message)
