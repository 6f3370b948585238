"""Noticing a fan-out message that never came.

Each publisher (a process) numbers its messages 1, 2, 3… (`events.publish`), and its
hub's heartbeat says up to which number it is done (`events.beat_message`). A hub that
sees 7 after 5, or hears "done up to 6" after 5, has lost 6, unless 6 is merely late:
two threads of one process may publish in either order. So a missing number is only a
gap once it is still missing `grace` seconds later, or when so many are missing at once
that lateness cannot explain it.
"""

GRACE_SECONDS = 1.0
SURE_GAP = 100  # this many missing at once: lost, not late


class Gaps:
    def __init__(self, grace: float = GRACE_SECONDS):
        self.grace = grace
        self.expected: dict[str, int] = {}  # per publisher: the next number due
        self.missing: dict[tuple[str, int], float] = {}  # (publisher, number): when it was first missed
        self.lost = False  # a loss known for sure, not yet reported

    def saw(self, origin: str | None, number: int | None, now: float) -> None:
        """A message numbered `number`."""
        if origin is None or not isinstance(number, int):
            return  # a message from an older version: no numbers to check
        if number < self.expected.get(origin, number):
            self.missing.pop((origin, number), None)  # a late one after all
            return
        self.sent_up_to(origin, number - 1, now)
        self.expected[origin] = number + 1

    def sent_up_to(self, origin: str | None, number: int | None, now: float) -> None:
        """A heartbeat: the publisher is done with every number up to `number` (sent or given up)."""
        if origin is None or not isinstance(number, int):
            return
        expected = self.expected.get(origin)
        if expected is None:
            # A publisher not heard from before (this hub or that process just started):
            # what it sent before now cannot be told apart from what was not for us.
            self.expected[origin] = number + 1
        elif number >= expected:
            if number + 1 - expected >= SURE_GAP:
                self.lost = True
            else:
                for late in range(expected, number + 1):
                    self.missing[(origin, late)] = now
            self.expected[origin] = number + 1

    def overdue(self, now: float) -> bool:
        """True (once) if something is lost: missing for longer than the grace, or for sure."""
        late = [key for key, since in self.missing.items() if now - since >= self.grace]
        for key in late:
            del self.missing[key]
        lost, self.lost = self.lost or bool(late), False
        return lost

    def waiting(self) -> bool:
        """Whether a number is missing but may still come."""
        return bool(self.missing)
