import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from miniapp.mockwx.groups import group_set
from miniapp.mockwx.models import Identity


class Command(BaseCommand):
    help = (
        "Create a group on the mock provider, or set the members of the group NAME, and print "
        'it as JSON: {"key", "name", "owner", "members"}. Members are nicknames of existing '
        "identities; the owner is one of them (kept as it was when not given)."
    )

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--members", required=True, help="nicknames, comma-separated: alice,bob,erin")
        parser.add_argument("--owner", help="a nickname; default: the group's owner, or the first member")

    def handle(self, name, members, owner, **options):
        nicknames = [n.strip() for n in members.split(",") if n.strip()]
        if owner:
            nicknames.insert(0, owner)
        found = {i.nickname: i for i in Identity.objects.filter(nickname__in=nicknames)}
        unknown = [n for n in dict.fromkeys(nicknames) if n not in found]
        if unknown:
            raise CommandError(f"no identity called {', '.join(unknown)} (they sign in once, or seed_demo makes them)")
        chosen = [found[n] for n in dict.fromkeys(nicknames)]
        owner_identity = found[owner] if owner else None
        try:
            group, created = group_set(name=name, members=chosen, owner=owner_identity)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        if group.owner is None:
            group.owner = chosen[0]
            group.save(update_fields=["owner"])
        self.stdout.write(
            json.dumps(
                {
                    "key": group.key,
                    "name": group.name,
                    "owner": group.owner.nickname,
                    "members": [m.nickname for m in group.members.order_by("pk")],
                    "created": created,
                },
                ensure_ascii=False,
            )
        )
