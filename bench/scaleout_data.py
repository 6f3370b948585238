"""bench/scaleout.py's users, made in the app's database (run as `python -m bench.scaleout_data`, with the app's
environment): the liker and --users others in one bulk insert, the liker friends with the --friends of them whose
shard a worker 0 holds for every W (shard mod 8 = 0), and a signed-in session for each user a socket is opened for.

The users are app users as a sign-in leaves them (a `User`, its `Friendship` rows both ways, a session as
`django.contrib.auth.login` writes it), made directly: signing in 9,000 users through the provider would take the
benchmark a quarter of an hour, and what it measures starts after the sign-in. Prints JSON:
{"liker": {"id", "session"}, "users": [{"id", "session", "friend"}, ...]} for the users given a session.
"""

import argparse
import json
import sys
from importlib import import_module

import django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--friends", type=int, required=True)
    parser.add_argument("--others", type=int, required=True, help="sockets per other worker, for each W")
    parser.add_argument("--workers", required=True, help="the W to place sockets for, e.g. 1,2,4,8")
    args = parser.parse_args()
    django.setup()

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.db import transaction

    from miniapp.accounts.models import Friendship, User

    shards = settings.REALTIME_SHARDS
    with transaction.atomic():
        liker = User.objects.create(username="scaleout_liker")
        users = User.objects.bulk_create([User(username=f"scaleout{i:05d}") for i in range(args.users)])
        friends = [user for user in users if user.pk % shards % 8 == 0][: args.friends]
        if len(friends) < args.friends:
            sys.exit(f"only {len(friends)} of {args.users} users are in worker 0's shards: raise --users")
        Friendship.objects.bulk_create(
            [Friendship(user=liker, friend=user) for user in friends]
            + [Friendship(user=user, friend=liker) for user in friends]
        )
        # For each W, worker w (1 <= w < W) holds --others users of its own shards (shard mod W = w).
        chosen = {user.pk for user in friends}
        others = [user for user in users if user.pk not in chosen]
        for workers in sorted({int(w) for w in args.workers.split(",")}):
            for worker in range(1, workers):
                theirs = [user for user in others if user.pk % shards % workers == worker][: args.others]
                if len(theirs) < args.others:
                    sys.exit(f"too few users for W={workers}: raise --users")
                chosen |= {user.pk for user in theirs}

    def session(user) -> str:
        store = import_module(settings.SESSION_ENGINE).SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        return store.session_key

    friend_ids = {user.pk for user in friends}
    print(
        json.dumps(
            {
                "liker": {"id": liker.pk, "session": session(liker)},
                "users": [
                    {"id": user.pk, "session": session(user), "friend": user.pk in friend_ids}
                    for user in users
                    if user.pk in chosen
                ],
            }
        )
    )


if __name__ == "__main__":
    main()
