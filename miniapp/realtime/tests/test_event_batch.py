"""`events.events_batch()`: the events sent inside go to the streams in one publish (one entry a
stream) once the transaction commits; none for a rollback, none for a savepoint rolled back."""

import json

import pytest
from django.db import transaction

from miniapp.realtime import events
from miniapp.realtime.streams import EVERYONE

pytestmark = pytest.mark.django_db


def gone(video_id: int) -> dict:
    return {"type": "video_gone", "video": video_id}


def retract(entry: int, seq: int) -> dict:
    return {"type": "retract", "id": entry, "seq": seq}


@pytest.fixture
def messages(monkeypatch, settings):
    """What each publish adds, as it goes: {stream: entry}."""
    settings.REALTIME_SHARDS = 64
    sent = []
    monkeypatch.setattr(
        events,
        "_send",
        lambda entries, what: sent.append({stream: json.loads(text) for stream, text in entries.items()}),
    )
    return sent


def test_a_batch_is_one_message_in_the_order_sent(messages, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic(), events.events_batch():
        events.send_event_on_commit(recipients=[1, 2], event=retract(10, 20))
        events.send_event_on_commit(recipients=[1, 2], event=retract(11, 21))
        events.send_event_on_commit(recipients=[3], event=retract(12, 22))
        events.send_event_to_everyone_on_commit(gone(5))
    [entries] = messages
    # Each stream's entry names its own recipients; events for the same recipients as the one
    # before go with it.
    assert entries == {
        "1": {"deliveries": [[[1], [retract(10, 20), retract(11, 21)]]]},
        "2": {"deliveries": [[[2], [retract(10, 20), retract(11, 21)]]]},
        "3": {"deliveries": [[[3], [retract(12, 22)]]]},
        EVERYONE: {"deliveries": [[None, [gone(5)]]]},
    }


def test_outside_a_batch_each_event_is_a_message(messages, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        events.send_event_on_commit(recipients=[1], event=retract(10, 20))
        events.send_event_on_commit(recipients=[1], event=retract(11, 21))
    assert messages == [
        {"1": {"deliveries": [[[1], [retract(10, 20)]]]}},
        {"1": {"deliveries": [[[1], [retract(11, 21)]]]}},
    ]


def test_a_batch_inside_a_batch_is_part_of_it(messages, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic(), events.events_batch():
        events.send_event_to_everyone_on_commit(gone(1))
        with events.events_batch():
            events.send_event_to_everyone_on_commit(gone(2))
        events.send_event_to_everyone_on_commit(gone(3))
    assert messages == [{EVERYONE: {"deliveries": [[None, [gone(1), gone(2), gone(3)]]]}}]


def test_nothing_goes_for_a_rollback_nor_for_a_savepoint_rolled_back(messages, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic(), events.events_batch():
        events.send_event_to_everyone_on_commit(gone(1))
        with pytest.raises(ZeroDivisionError), transaction.atomic():
            events.send_event_to_everyone_on_commit(gone(2))
            1 / 0
    assert messages == [{EVERYONE: {"deliveries": [[None, [gone(1)]]]}}]

    messages.clear()
    capture = django_capture_on_commit_callbacks(execute=True)
    with capture, pytest.raises(ZeroDivisionError), transaction.atomic(), events.events_batch():
        events.send_event_to_everyone_on_commit(gone(3))
        1 / 0
    assert messages == []


def test_an_event_goes_to_each_of_its_recipients_streams_once(messages, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        events.send_event_on_commit(recipients=[1, 65, 2, 129], event=retract(7, 17))
    assert messages == [
        {
            "1": {"deliveries": [[[1, 65, 129], [retract(7, 17)]]]},
            "2": {"deliveries": [[[2], [retract(7, 17)]]]},
        }
    ]
