"""Two Daphne workers on one PostgreSQL and one Redis: a like accepted by worker A reaches a
friend whose socket is on worker B. Runs when REDIS_URL is set (CI's scale-out pass)."""

import os

import pytest

from tests.fixtures.servers import screenshot, signed_in_page, start_server, stop_server

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="two workers need a shared channel layer (REDIS_URL)"),
]


@pytest.fixture
def worker_b(site, media_dir, tmp_path):
    server = start_server(media_root=media_dir, log=tmp_path / "worker-b.log")
    yield server
    stop_server(server)


def test_a_like_on_worker_a_reaches_a_friend_on_worker_b(site, worker_b, phone):
    from django.core.management import call_command

    from miniapp.videos.models import Video

    call_command("seed_demo", verbosity=0)
    video = Video.objects.exclude(likes__user__username="alice").order_by("pk").first()

    # Cookies are per host, not per port: bob signs in through A, then lives on B.
    bob = signed_in_page(phone(), site, "bob", "/me/")
    bob.goto(f"{worker_b.url}/friends/")
    bob.wait_for_function("document.documentElement.dataset.socket === 'open'")

    alice = signed_in_page(phone(), site, "alice", f"/v/{video.pk}/")
    alice.locator(".slide").first.locator(".action-like").click()
    item = bob.locator(".activity", has_text=video.title)
    item.wait_for(timeout=10_000)
    assert "alice" in item.inner_text()
    screenshot(bob, "two-workers-friends-zh-CN")
