"""`events.events_batch()`: the events sent inside go to the channel layer as one message once the
transaction commits; none for a rollback, none for a savepoint rolled back."""

import pytest
from django.db import transaction

from miniapp.realtime import events

pytestmark = pytest.mark.django_db


def gone(video_id: int) -> dict:
    return {"type": "video_gone", "video": video_id}


def retract(entry: int, seq: int) -> dict:
    return {"type": "retract", "id": entry, "seq": seq}


@pytest.fixture
def messages(monkeypatch):
    """The layer messages sent, as they go."""
    sent = []
    monkeypatch.setattr(events, "_send", lambda message, what: sent.append(message))
    return sent


def test_a_batch_is_one_message_in_the_order_sent(messages, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic(), events.events_batch():
        events.send_event_on_commit(recipients=[1, 2], event=retract(10, 20))
        events.send_event_on_commit(recipients=[1, 2], event=retract(11, 21))
        events.send_event_on_commit(recipients=[3], event=retract(12, 22))
        events.send_event_to_everyone_on_commit(gone(5))
    [message] = messages
    assert message["type"] == events.MESSAGE_TYPE
    # Events for the same recipients as the one before go with it.
    assert message["deliveries"] == [
        [[1, 2], [retract(10, 20), retract(11, 21)]],
        [[3], [retract(12, 22)]],
        [None, [gone(5)]],
    ]


def test_outside_a_batch_each_event_is_a_message(messages, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        events.send_event_on_commit(recipients=[1], event=retract(10, 20))
        events.send_event_on_commit(recipients=[1], event=retract(11, 21))
    assert [message["deliveries"] for message in messages] == [[[[1], [retract(10, 20)]]], [[[1], [retract(11, 21)]]]]


def test_a_batch_inside_a_batch_is_part_of_it(messages, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic(), events.events_batch():
        events.send_event_to_everyone_on_commit(gone(1))
        with events.events_batch():
            events.send_event_to_everyone_on_commit(gone(2))
        events.send_event_to_everyone_on_commit(gone(3))
    assert [message["deliveries"] for message in messages] == [[[None, [gone(1), gone(2), gone(3)]]]]


def test_nothing_goes_for_a_rollback_nor_for_a_savepoint_rolled_back(messages, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic(), events.events_batch():
        events.send_event_to_everyone_on_commit(gone(1))
        with pytest.raises(ZeroDivisionError), transaction.atomic():
            events.send_event_to_everyone_on_commit(gone(2))
            1 / 0
    assert [message["deliveries"] for message in messages] == [[[None, [gone(1)]]]]

    messages.clear()
    capture = django_capture_on_commit_callbacks(execute=True)
    with capture, pytest.raises(ZeroDivisionError), transaction.atomic(), events.events_batch():
        events.send_event_to_everyone_on_commit(gone(3))
        1 / 0
    assert messages == []


def test_a_large_batch_goes_in_messages_of_bounded_size(messages, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(events, "MESSAGE_SIZE", 10)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic(), events.events_batch():
        for i in range(1, 7):
            events.send_event_on_commit(recipients=[i, i + 100], event=retract(i, i + 10))  # 3 each
        events.send_event_on_commit(recipients=list(range(1, 50)), event=retract(7, 17))  # alone, but whole
    sizes = [[len(events_) for _, events_ in message["deliveries"]] for message in messages]
    assert sizes == [[1, 1, 1], [1, 1, 1], [1]]
