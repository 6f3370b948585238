"""Likes in a live room: batches of taps counted exactly once (retries, concurrent batches), the
rate per user, only while on air, the API's answers, and a user's first like in a live going to
their friends' 好友动态 once."""

import asyncio
import threading
import time
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.core.exceptions import ValidationError
from django.db import OperationalError, close_old_connections, connections
from django.db.models import F
from django.test import Client
from django.utils import timezone, translation

from miniapp.engagement.models import Activity
from miniapp.engagement.selectors import activity_replay
from miniapp.lives import taps
from miniapp.lives.models import Liker, Live, TapBatch
from miniapp.lives.services import live_create, live_end
from tests.fixtures.personas import english, signed_in_client
from tests.fixtures.sockets import until

pytestmark = pytest.mark.django_db


def tap(client: Client, live: Live, count: int, batch: str):
    return client.post(f"/api/lives/{live.pk}/likes/", {"taps": count, "batch": batch}, content_type="application/json")


def test_a_batch_counts_once_however_often_it_is_sent(users, clip_live):
    bob = users["bob"]
    first = taps.taps_add(live_id=clip_live.pk, user=bob, taps=3, batch="b1")
    assert (first.likes, first.taps, first.refused, first.first) == (3, 3, 0, True)
    again = taps.taps_add(live_id=clip_live.pk, user=bob, taps=3, batch="b1")
    assert (again.likes, again.taps, again.refused, again.first) == (3, 3, 0, False)
    other = taps.taps_add(live_id=clip_live.pk, user=users["carol"], taps=2, batch="b1")  # another user's b1
    assert (other.likes, other.taps, other.first) == (5, 2, True)
    clip_live.refresh_from_db()
    assert clip_live.likes == 5
    assert Liker.objects.get(live=clip_live, user=bob).taps == 3


def test_taps_over_the_rate_are_refused_and_said_so(users, clip_live):
    bob = users["bob"]
    over = taps.taps_add(live_id=clip_live.pk, user=bob, taps=25, batch="a")
    assert (over.taps, over.refused) == (taps.TAPS_PER_SECOND, 25 - taps.TAPS_PER_SECOND)
    assert taps.taps_add(live_id=clip_live.pk, user=bob, taps=1, batch="b").refused == 1  # the same second
    Liker.objects.filter(user=bob).update(second=F("second") - timedelta(seconds=1.01))  # a second later
    assert taps.taps_add(live_id=clip_live.pk, user=bob, taps=4, batch="c").taps == 4  # the next one
    clip_live.refresh_from_db()
    assert clip_live.likes == taps.TAPS_PER_SECOND + 4


def test_a_commit_writes_rows_as_the_models_read_them(users, clip_live):
    """`lives.tap_rows` writes in SQL of its own: the ORM reads back what was counted, when."""
    bob = users["bob"]
    taps.taps_add(live_id=clip_live.pk, user=bob, taps=2, batch="one")
    liker, batch = Liker.objects.get(live=clip_live, user=bob), TapBatch.objects.get(batch="one")
    assert (liker.taps, liker.second_taps, batch.taps, batch.user_id) == (2, 2, 2, bob.pk)
    assert liker.first == liker.last == liker.second == batch.created  # the commit's one moment
    assert abs(timezone.now() - liker.first) < timedelta(minutes=1)
    Liker.objects.filter(pk=liker.pk).update(second=F("second") - timedelta(seconds=2))
    taps.taps_add(live_id=clip_live.pk, user=bob, taps=3, batch="two")
    later = Liker.objects.get(pk=liker.pk)
    assert later.first == liker.first and later.last > liker.last and later.second == later.last
    assert (later.taps, later.second_taps) == (5, 3)
    assert Live.objects.get(pk=clip_live.pk).likes == 5


def test_taps_count_only_while_on_air(users, clip_live):
    scheduled = live_create(host=users["carol"], title="明天")
    for closed in (scheduled, live_end(live=clip_live)):
        with translation.override("en"), pytest.raises(ValidationError, match="not on air"):
            taps.taps_add(live_id=closed.pk, user=users["bob"], taps=1, batch="x")
    assert not Liker.objects.exists() and Live.objects.get(pk=clip_live.pk).likes == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_and_retries_add_up_exactly(users, clip_live):
    """Four tappers at once, each batch sent twice: the total is exactly the taps of the batches."""
    people = [users[name] for name in ("bob", "carol", "dave", "erin")]
    errors = []

    def tapper(user):
        try:
            for n in range(10):
                for _ in range(2):  # the answer "lost": sent again
                    taps.taps_add(live_id=clip_live.pk, user=user, taps=2, batch=f"{user.pk}-{n}")
        except Exception as error:  # noqa: BLE001 (reported below)
            errors.append(error)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=tapper, args=(user,)) for user in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    clip_live.refresh_from_db()
    # Each batch once; what the rate let through (20 taps each, if all came within a second)
    # is exactly the total.
    batches = TapBatch.objects.filter(live=clip_live)
    assert batches.count() == 40
    counted = sum(batches.values_list("taps", flat=True))
    assert clip_live.likes == counted == sum(Liker.objects.filter(live=clip_live).values_list("taps", flat=True))
    assert counted >= 4 * taps.TAPS_PER_SECOND


def test_the_api_answers_the_total_and_refuses_what_it_cannot_count(users, clip_live):
    bob = english(signed_in_client(users["bob"]))
    answer = tap(bob, clip_live, 3, "k1")
    assert answer.status_code == 200 and answer.json() == {"likes": 3, "counted": 3, "refused": 0, "next": 250}
    assert tap(bob, clip_live, 3, "k1").json() == {"likes": 3, "counted": 3, "refused": 0, "next": 250}  # a retry

    over = tap(bob, clip_live, 20, "k2")
    assert over.status_code == 200 and over.json()["refused"] == 3 and "20 a second" in over.json()["detail"]
    none = tap(bob, clip_live, 1, "k3")
    assert none.status_code == 429 and none.json()["counted"] == 0

    for body in ({"taps": 0, "batch": "z"}, {"taps": 51, "batch": "z"}, {"taps": 1, "batch": "a b"}, {}):
        bad = bob.post(f"/api/lives/{clip_live.pk}/likes/", body, content_type="application/json")
        assert bad.status_code == 400 and "`taps` (1 to 50)" in bad.json()["detail"]
    assert tap(Client(), clip_live, 1, "k").status_code in (401, 403)
    assert tap(bob, Live(pk=clip_live.pk + 99), 1, "k").status_code == 404

    live_end(live=clip_live)
    ended = tap(bob, clip_live, 1, "k4")
    assert ended.status_code == 400 and "not on air" in ended.json()["detail"] and ended.json()["status"] == "ended"


def test_a_first_like_in_a_live_reaches_friends_once(users, clip_live):
    bob = english(signed_in_client(users["bob"]))
    tap(bob, clip_live, 2, "1")
    tap(bob, clip_live, 2, "2")
    (entry,) = Activity.objects.filter(verb=Activity.Verb.LIVE_LIKE)
    assert entry.actor == users["bob"] and entry.live_id == clip_live.pk and entry.video_id is None

    # In bob's friend alice's 好友动态: "bob 给 carol 的直播点赞", opening the room.
    events, _ = activity_replay(viewer_id=users["alice"].pk, after=0, limit=10)
    (event,) = [e for e in events if e["verb"] == "live_like"]
    assert event["live"] == {
        "id": clip_live.pk,
        "title": "广场舞直播",
        "host": {"id": users["carol"].pk, "name": "carol", "avatar": users["carol"].avatar_url},
        "status": "live",
    }
    assert event["url"] == f"/live/{clip_live.pk}/" and event["video"] is None

    tap(english(signed_in_client(users["carol"])), clip_live, 1, "own")  # the host's own taps count, unannounced
    assert Activity.objects.filter(verb=Activity.Verb.LIVE_LIKE).count() == 1


@pytest.fixture
def desk():
    """A desk of the test's own, its commit thread ended after."""
    desk = taps.Desk()
    yield desk
    desk.close()


@pytest.mark.django_db(transaction=True)
async def test_batches_that_come_during_a_commit_are_counted_together_in_the_next(users, clip_live, desk, monkeypatch):
    gate, sizes = asyncio.Event(), []
    commit = taps._commit
    loop = asyncio.get_running_loop()

    def held(batches):  # the first commit waits for `gate`
        sizes.append(len(batches))
        if len(sizes) == 1:
            asyncio.run_coroutine_threadsafe(gate.wait(), loop).result(10)
        return commit(batches)

    monkeypatch.setattr(taps, "_commit", held)

    def count(name, batch, n):
        return asyncio.ensure_future(
            desk.count(taps.Batch(live_id=clip_live.pk, taps=n, batch=batch, user=users[name]))
        )

    first = count("bob", "b1", 2)
    while sizes != [1]:  # bob's commit runs, held
        await asyncio.sleep(0.005)
    rest = [count("carol", "c1", 3), count("dave", "d1", 4), count("bob", "b2", 5), count("bob", "b2", 5)]
    await asyncio.sleep(0.05)
    gate.set()
    answers = [await task for task in [first, *rest]]
    assert sizes == [1, 4]  # one commit for the four that waited
    assert answers[0].counted == taps.Counted(likes=2, taps=2, refused=0, first=True)
    carol, dave, bob, bob_again = (answer.counted for answer in answers[1:])
    assert (carol.likes, dave.likes, bob.likes) == (14, 14, 14)  # the total once that commit is in
    assert (carol.first, dave.first, bob.first) == (True, True, False)
    assert bob_again == taps.Counted(likes=14, taps=5, refused=0, first=False)  # the same batch twice: once
    assert await database_sync_to_async(Live.objects.values_list("likes", flat=True).get)(pk=clip_live.pk) == 14
    assert desk.committer.jobs.empty()


@pytest.mark.django_db(transaction=True)
async def test_the_next_commit_does_not_wait_for_a_busy_event_loop(users, clip_live, desk, monkeypatch):
    """The commit thread takes the batches that waited as soon as a commit ends: a live room
    keeping the loop busy delays the answers, not the commits."""
    go, sizes, commit = threading.Event(), [], taps._commit

    def held(batches):  # the first commit waits for `go`
        sizes.append(len(batches))
        if len(sizes) == 1:
            go.wait(10)
        return commit(batches)

    monkeypatch.setattr(taps, "_commit", held)

    def count(name, batch):
        batch = taps.Batch(live_id=clip_live.pk, taps=2, batch=batch, user=users[name])
        return asyncio.ensure_future(desk.count(batch))

    first = count("bob", "b1")
    await until(lambda: sizes == [1])
    second = count("carol", "c1")
    await asyncio.sleep(0)  # carol's batch waits for the next commit
    go.set()
    deadline = time.monotonic() + 10
    while len(sizes) < 2 and time.monotonic() < deadline:  # the loop held: none of its callbacks run
        time.sleep(0.01)
    assert sizes == [1, 1]
    assert ((await first).counted.likes, (await second).counted.likes) == (2, 4)


@pytest.mark.django_db(transaction=True)
async def test_a_failed_commit_fails_its_batches_only_and_the_next_commits(users, clip_live, desk, monkeypatch):
    calls = []
    commit = taps._commit

    def failing_once(batches):
        calls.append(len(batches))
        if len(calls) == 1:
            raise OperationalError("the database went away")
        return commit(batches)

    monkeypatch.setattr(taps, "_commit", failing_once)
    with pytest.raises(OperationalError):
        await desk.count(taps.Batch(live_id=clip_live.pk, taps=2, batch="x", user=users["bob"]))
    again = await desk.count(taps.Batch(live_id=clip_live.pk, taps=2, batch="x", user=users["bob"]))
    assert again.counted == taps.Counted(likes=2, taps=2, refused=0, first=True)  # sent again: counted


@pytest.mark.django_db(transaction=True)
async def test_the_commit_thread_keeps_its_connection_until_an_error_or_quiet(users, clip_live, desk, monkeypatch):
    commit, seen = taps._commit, []  # per commit: the thread's connection, and whether it was open

    def watched(batches):
        wrapper = connections["default"]  # this thread's
        seen.append((wrapper, wrapper.connection))
        if wrapper.vendor == "sqlite":  # the log's checkpoints are another thread's (lib.wal_checkpoints)
            with wrapper.cursor() as cursor:
                assert cursor.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
        if batches[0].batch == "boom":
            raise OperationalError("the database went away")
        return commit(batches)

    monkeypatch.setattr(taps, "_commit", watched)
    monkeypatch.setattr(taps.CommitThread, "IDLE", 0.2)

    def batch(name):
        return taps.Batch(live_id=clip_live.pk, taps=1, batch=name, user=users["bob"])

    await desk.count(batch("1"))
    await desk.count(batch("2"))
    assert seen[1] == seen[0] and seen[0][1] is not None  # the same connection, still open
    with pytest.raises(OperationalError):
        await desk.count(batch("boom"))
    await desk.count(batch("3"))
    assert seen[3][1] is not seen[2][1]  # closed after the error: a fresh one
    await until(lambda: desk.committer.thread is None)  # quiet: the thread ended, its connection closed
    assert seen[3][0].connection is None
    assert (await desk.count(batch("4"))).counted.likes == 4  # and starts again for the next batch


def test_one_commit_answers_each_batch_for_itself(users, clip_live):
    ended = live_create(host=users["dave"], title="昨天")
    banned = users["erin"]
    banned.banned_until = timezone.now() + timedelta(days=1)
    batches = [
        taps.Batch(live_id=clip_live.pk, taps=30, batch="1", user=users["bob"]),
        taps.Batch(live_id=ended.pk, taps=1, batch="1", user=users["bob"]),
        taps.Batch(live_id=clip_live.pk, taps=5, batch="2", user=users["bob"]),  # the same second
        taps.Batch(live_id=clip_live.pk + 99, taps=1, batch="1", user=users["bob"]),
        taps.Batch(live_id=clip_live.pk, taps=1, batch="1", session_key="nobody's"),
        taps.Batch(live_id=clip_live.pk, taps=1, batch="1", user=banned),
    ]
    over, not_on_air, refused, no_live, signed_out, ban = taps._commit(batches)
    assert over.counted == taps.Counted(likes=20, taps=20, refused=10, first=True)
    assert (not_on_air.refused, not_on_air.status) == (taps.Refused.NOT_ON_AIR, "scheduled")
    assert refused.counted == taps.Counted(likes=20, taps=0, refused=5, first=False)
    assert no_live.refused == taps.Refused.NO_LIVE
    assert signed_out.refused == taps.Refused.SIGNED_OUT
    assert ban.refused == taps.Refused.BANNED
    assert Liker.objects.get(live=clip_live, user=users["bob"]).taps == 20
    assert Live.objects.get(pk=clip_live.pk).likes == 20


def test_a_batch_is_counted_for_whom_its_session_signs_in(users, clip_live):
    bob = signed_in_client(users["bob"])
    key = bob.session.session_key
    (answer,) = taps._commit([taps.Batch(live_id=clip_live.pk, taps=3, batch="s", session_key=key)])
    assert answer.counted.taps == 3 and answer.user_id == users["bob"].pk
    bob.logout()  # the session is gone: nobody
    (answer,) = taps._commit([taps.Batch(live_id=clip_live.pk, taps=3, batch="t", session_key=key)])
    assert answer.refused == taps.Refused.SIGNED_OUT


def _paused_in_commit(monkeypatch, user) -> tuple[threading.Event, threading.Event]:
    """A commit of `user`'s halts once it has read the rooms and locked its likers (as a busy
    worker's commit thread may, waiting for the GIL): (halted, go on)."""
    halted, go_on = threading.Event(), threading.Event()
    batches_sent = taps.tap_rows.batches_sent

    def pausing(cursor, keys):
        if any(key[1] == user.pk for key in keys):
            halted.set()
            assert go_on.wait(10)
        return batches_sent(cursor, keys)

    monkeypatch.setattr(taps.tap_rows, "batches_sent", pausing)
    return halted, go_on


def _in_thread(work) -> tuple[threading.Thread, list]:
    out = []

    def run():
        try:
            out.append(work())
        except Exception as error:  # noqa: BLE001 (the test reads it)
            out.append(error)
        finally:
            close_old_connections()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


@pytest.mark.django_db(transaction=True)
def test_two_commits_into_one_room_wait_for_each_other_only_to_add_to_its_total(users, clip_live, monkeypatch):
    """Two workers' commits into one room: one halted mid-commit holds only its tapper's row,
    and the other's commit goes through meanwhile (before, the first held the live's row)."""
    if not connections["default"].features.has_select_for_update:
        pytest.skip("SQLite has one writer: its commits are one after another whatever they lock")
    bob, carol = users["bob"], users["dave"]
    halted, go_on = _paused_in_commit(monkeypatch, bob)
    thread, out = _in_thread(lambda: taps.taps_add(live_id=clip_live.pk, user=bob, taps=3, batch="b"))
    try:
        assert halted.wait(10)
        done, meanwhile = _in_thread(lambda: taps.taps_add(live_id=clip_live.pk, user=carol, taps=2, batch="c"))
        done.join(5)
        assert not done.is_alive() and meanwhile[0].likes == 2
        # bob's second batch (from another worker, say) waits for his first: his rate is one count
        later, second = _in_thread(lambda: taps.taps_add(live_id=clip_live.pk, user=bob, taps=20, batch="b2"))
        later.join(0.5)
        assert later.is_alive()
    finally:
        go_on.set()
        thread.join(10)
    later.join(10)
    assert out[0].likes == 5 and out[0].first
    assert (second[0].taps, second[0].refused, second[0].likes) == (17, 3, 22)
    assert Live.objects.get(pk=clip_live.pk).likes == 22 == sum(Liker.objects.values_list("taps", flat=True))


@pytest.mark.django_db(transaction=True)
def test_a_live_ended_during_a_commit_counts_none_of_it(users, clip_live, monkeypatch):
    if not connections["default"].features.has_select_for_update:
        pytest.skip("on SQLite a commit holds the one write lock: the live cannot end during it")
    bob = users["bob"]
    taps.taps_add(live_id=clip_live.pk, user=bob, taps=1, batch="before")
    halted, go_on = _paused_in_commit(monkeypatch, bob)
    thread, out = _in_thread(lambda: taps._commit([taps.Batch(live_id=clip_live.pk, taps=3, batch="b", user=bob)]))
    try:
        assert halted.wait(10)
        live_end(live=clip_live)  # not held up by the commit: it has not touched the live's row
    finally:
        go_on.set()
        thread.join(10)
    (answer,) = out[0]
    assert (answer.refused, answer.status) == (taps.Refused.NOT_ON_AIR, "ended")
    assert Live.objects.get(pk=clip_live.pk).likes == 1 == Liker.objects.get(user=bob).taps
    assert list(TapBatch.objects.values_list("batch", flat=True)) == ["before"]


@pytest.mark.django_db(transaction=True)
def test_one_batch_sent_twice_at_once_counts_once(users, clip_live, monkeypatch):
    """Its answer lost, the page sends a batch again while the first commit of it still runs
    (on another worker, say): the second waits for the first's lock on the tapper's row, finds
    the batch counted, and answers the same."""
    bob = users["bob"]
    halted, go_on = _paused_in_commit(monkeypatch, bob)
    first, out = _in_thread(lambda: taps.taps_add(live_id=clip_live.pk, user=bob, taps=4, batch="twice"))
    try:
        assert halted.wait(10)
        halted.clear()
        again, out_again = _in_thread(lambda: taps.taps_add(live_id=clip_live.pk, user=bob, taps=4, batch="twice"))
        again.join(0.5)
        assert again.is_alive()  # waiting for the first
    finally:
        go_on.set()
        first.join(10)
    again.join(10)
    assert (out[0].taps, out[0].first) == (4, True) and (out_again[0].taps, out_again[0].first) == (4, False)
    assert Live.objects.get(pk=clip_live.pk).likes == 4 == TapBatch.objects.get(batch="twice").taps


@pytest.mark.django_db(transaction=True)
def test_a_batch_that_counts_nothing_is_refused_too_when_the_live_ended_meanwhile(users, clip_live, monkeypatch):
    if not connections["default"].features.has_select_for_update:
        pytest.skip("on SQLite a commit holds the one write lock: the live cannot end during it")
    bob = users["bob"]
    taps.taps_add(live_id=clip_live.pk, user=bob, taps=taps.TAPS_PER_SECOND, batch="full")  # his second is full
    halted, go_on = _paused_in_commit(monkeypatch, bob)
    thread, out = _in_thread(lambda: taps._commit([taps.Batch(live_id=clip_live.pk, taps=3, batch="over", user=bob)]))
    try:
        assert halted.wait(10)
        live_end(live=clip_live)
    finally:
        go_on.set()
        thread.join(10)
    (answer,) = out[0]
    assert (answer.refused, answer.status) == (taps.Refused.NOT_ON_AIR, "ended")  # not "0 counted"
    assert not TapBatch.objects.filter(batch="over").exists()
