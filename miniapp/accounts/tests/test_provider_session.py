import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection, transaction

from miniapp.accounts.adapters import SocialAccountAdapter
from miniapp.accounts.models import User

pytestmark = pytest.mark.django_db(transaction=True)


class Provider(BaseHTTPRequestHandler):
    """A stand-in provider: every GET is noted and answered with {}."""

    def do_GET(self):
        self.server.calls.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def provider():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Provider)
    server.calls = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def pooled() -> bool:
    return getattr(connection, "pool", None) is not None


def test_a_call_to_the_provider_hands_the_pooled_connection_back(provider):
    User.objects.create(username="alice")  # the request holds a connection now
    assert connection.connection is not None
    with SocialAccountAdapter().get_requests_session() as session:
        assert session.get(f"http://127.0.0.1:{provider.server_port}/token").json() == {}
    assert provider.calls == ["/token"]
    # Pooled (PostgreSQL): back in the pool while the provider answered. Not pooled
    # (SQLite): kept, as closing it would only cost a new one.
    assert (connection.connection is None) is pooled()
    assert User.objects.get().username == "alice"  # and the next query borrows one again


def test_inside_a_transaction_the_connection_is_kept(provider):
    with transaction.atomic():
        User.objects.create(username="alice")
        with SocialAccountAdapter().get_requests_session() as session:
            session.get(f"http://127.0.0.1:{provider.server_port}/friends")
        assert connection.connection is not None
        assert User.objects.filter(username="alice").exists()  # the same transaction, still open
    assert User.objects.count() == 1
