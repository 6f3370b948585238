from miniapp.realtime.gaps import SURE_GAP, Gaps


def test_numbers_in_order_are_no_gap():
    gaps = Gaps(grace=1)
    for number in range(1, 6):
        gaps.saw("a", number, now=0)
    assert not gaps.waiting() and not gaps.overdue(now=10)


def test_a_late_number_within_the_grace_is_no_gap():
    gaps = Gaps(grace=1)
    gaps.saw("a", 1, now=0)
    gaps.saw("a", 3, now=0)
    assert gaps.waiting() and not gaps.overdue(now=0.5)
    gaps.saw("a", 2, now=0.6)
    assert not gaps.waiting() and not gaps.overdue(now=5)


def test_a_number_missing_past_the_grace_is_a_gap_reported_once():
    gaps = Gaps(grace=1)
    gaps.saw("a", 1, now=0)
    gaps.saw("a", 3, now=0)
    assert gaps.overdue(now=1.5)
    assert not gaps.overdue(now=3)
    gaps.saw("a", 2, now=3)  # far too late: already caught up, nothing more to do
    assert not gaps.overdue(now=5)


def test_publishers_are_counted_apart():
    gaps = Gaps(grace=1)
    gaps.saw("a", 7, now=0)
    gaps.saw("b", 1, now=0)
    gaps.saw("a", 8, now=0)
    gaps.saw("b", 2, now=0)
    assert not gaps.waiting()


def test_a_publisher_first_heard_mid_count_is_no_gap():
    gaps = Gaps(grace=1)
    gaps.saw("a", 500, now=0)
    assert not gaps.waiting() and not gaps.overdue(now=5)


def test_many_missing_at_once_is_a_gap_at_once():
    gaps = Gaps(grace=1)
    gaps.saw("a", 1, now=0)
    gaps.saw("a", 2 + SURE_GAP, now=0)
    assert gaps.overdue(now=0)


def test_messages_without_numbers_are_ignored():
    gaps = Gaps(grace=1)
    gaps.saw(None, None, now=0)
    gaps.saw("a", "7", now=0)
    assert not gaps.waiting() and not gaps.overdue(now=5)


def test_a_heartbeat_shows_a_number_that_never_came():
    gaps = Gaps(grace=1)
    gaps.saw("a", 1, now=0)
    gaps.sent_up_to("a", 2, now=0)  # 2 was given up on, or is still on its way
    assert gaps.waiting() and not gaps.overdue(now=0.5)
    assert gaps.overdue(now=1.5)
    gaps.saw("a", 3, now=2)  # the next message: no new gap
    assert not gaps.waiting()


def test_a_heartbeat_behind_the_messages_is_no_gap():
    gaps = Gaps(grace=1)
    for number in range(1, 4):
        gaps.saw("a", number, now=0)
    gaps.sent_up_to("a", 2, now=0)  # a beat sent before message 3 went out
    gaps.sent_up_to("a", 3, now=0)
    assert not gaps.waiting() and not gaps.overdue(now=10)


def test_a_first_heartbeat_is_where_a_publisher_starts():
    gaps = Gaps(grace=1)
    gaps.sent_up_to("a", 0, now=0)  # a process that has sent nothing yet
    gaps.saw("a", 2, now=0)  # so its first message, 1, is known to be missing
    assert gaps.overdue(now=1.5)
