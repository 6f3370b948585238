import json
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError

from miniapp.mockwx import services


class Command(BaseCommand):
    help = (
        "Register a confidential client on the mock provider and print its credentials "
        "as JSON. Running it again for the same NAME replaces the redirect URIs and the secret."
    )

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--redirect-uri", action="append", required=True, dest="redirect_uris")

    def handle(self, name, redirect_uris, **options):
        for uri in redirect_uris:
            parts = urlsplit(uri)
            if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment:
                raise CommandError(f"--redirect-uri {uri!r}: expected an absolute http(s) URL without a #fragment")
        client, secret = services.client_register(name=name, redirect_uris=redirect_uris)
        self.stdout.write(json.dumps({"client_id": client.client_id, "client_secret": secret}))
