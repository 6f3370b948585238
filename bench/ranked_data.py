"""The data of bench/ranked_feed.py: 1,000 users with a friend graph, 10,000 videos, 100,000
likes with Zipf-like popularity and hot scores, and alice's recent views, bulk-created on top of
`seed_demo` in an empty database. Split out so the benchmark itself stays readable."""

import io
import random
import statistics
import time
from bisect import bisect_left
from collections import defaultdict
from datetime import timedelta
from itertools import accumulate

DEMO_USERS = ("alice", "bob", "carol", "dave", "erin")
ALICE_FRIENDS, ERIN_FRIENDS = 50, 4
ZIPF_S = 0.8  # like popularity of the video ranked k: 1 / k^s
ALICE_VIEWS = 2_000


def seed(n_users: int, n_videos: int, n_likes: int) -> dict:
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from miniapp.accounts.models import Friendship, User
    from miniapp.engagement.models import Like, View
    from miniapp.videos import hotness
    from miniapp.videos.models import Video

    started = time.monotonic()
    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0, stdout=io.StringIO())
    timings = {"migrate_and_seed_demo_s": round(time.monotonic() - started, 1)}
    started = time.monotonic()
    rng = random.Random(42)
    now = timezone.now()

    # Users and the friend graph: everyone picks 10-30 others, and is picked by about 20.
    User.objects.bulk_create(
        [
            User(
                username=f"user{i:04d}",
                display_name=f"User {i}",
                avatar_url=f"https://example.com/avatars/{i}.png",
                password="!bench",  # unusable, as for every provider account
            )
            for i in range(1, n_users + 1)
        ],
        batch_size=1000,
    )
    demo = {u.username: u for u in User.objects.filter(username__in=DEMO_USERS)}
    alice, erin = demo["alice"], demo["erin"]
    bulk = list(User.objects.filter(username__startswith="user").order_by("pk").values_list("pk", flat=True))
    edges = set()
    for me in bulk:
        for other in rng.sample(bulk, rng.randint(10, 30)):
            if other != me:
                edges.add((min(me, other), max(me, other)))
    edges.update((alice.pk, other) for other in rng.sample(bulk, ALICE_FRIENDS))
    edges.update((erin.pk, other) for other in rng.sample(bulk, ERIN_FRIENDS))
    Friendship.objects.bulk_create(
        [Friendship(user_id=a, friend_id=b) for x, y in edges for a, b in ((x, y), (y, x))], batch_size=2000
    )
    degree = defaultdict(int)
    for x, y in edges:
        degree[x] += 1
        degree[y] += 1

    # Videos: the demo files again, over the last 30 days; popularity by a shuffled Zipf rank.
    demo_videos = list(Video.objects.order_by("pk"))
    authors = bulk + [u.pk for u in demo.values()]
    others = round(n_videos * 0.03)
    statuses = (
        [Video.Status.PUBLISHED] * n_videos
        + [Video.Status.HIDDEN, Video.Status.HIDDEN, Video.Status.REMOVED] * (others // 3)
        + [Video.Status.HIDDEN] * (others % 3)
    )
    rng.shuffle(statuses)
    total = len(statuses)
    created = [now - timedelta(seconds=rng.uniform(60, 30 * 86400)) for _ in range(total)]
    ranks = list(range(1, total + 1))
    rng.shuffle(ranks)
    cum = list(accumulate(1 / rank**ZIPF_S for rank in ranks))

    # Likes: (video, user) pairs drawn by popularity, one per pair; given soon after the upload, mostly.
    likers = bulk + [u.pk for u in demo.values()]
    n_likes = min(n_likes, total * len(likers) // 2)
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < n_likes:
        r = rng.random() * cum[-1]
        pairs.add((bisect_left(cum, r), likers[rng.randrange(len(likers))]))
    liked: dict[int, list] = defaultdict(list)
    like_times = {}
    for index, user_id in pairs:
        age = (now - created[index]).total_seconds()
        moment = created[index] + timedelta(seconds=1 + (age - 2) * rng.random() ** 2)
        like_times[index, user_id] = moment
        liked[index].append(moment)

    rows = []
    for i in range(total):
        base = demo_videos[i % len(demo_videos)]
        rows.append(
            Video(
                author_id=authors[rng.randrange(len(authors))],
                title=f"{base.title} #{i}",
                description=base.description,
                file=base.file.name,
                poster=base.poster.name,
                card=base.card.name,
                duration=base.duration,
                size=base.size,
                width=base.width,
                height=base.height,
                status=statuses[i],
                created=created[i],
                like_count=len(liked[i]),
                hot=hotness.score(created[i], liked[i]),
            )
        )
    videos = Video.objects.bulk_create(rows, batch_size=1000)
    assert all(v.pk for v in videos), "bulk_create did not return the ids"
    Like.objects.bulk_create(
        [Like(user_id=u, video_id=videos[i].pk, created=t) for (i, u), t in like_times.items()], batch_size=2000
    )

    # Alice watched 2,000 videos in the last 3 days, popular ones more often; one row per video and day.
    published = [i for i in range(total) if statuses[i] == Video.Status.PUBLISHED]
    weights = list(accumulate(1 / ranks[i] ** ZIPF_S for i in published))
    seen: dict[tuple[int, object], object] = {}
    while len(seen) < ALICE_VIEWS:
        index = published[bisect_left(weights, rng.random() * weights[-1])]
        moment = now - timedelta(seconds=rng.uniform(0, 3 * 86400))
        seen.setdefault((videos[index].pk, timezone.localdate(moment)), moment)
    View.objects.bulk_create(
        [
            View(video_id=video_id, viewer=alice, visitor=f"u{alice.pk}", day=day, created=moment)
            for (video_id, day), moment in seen.items()
        ],
        batch_size=2000,
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # as autovacuum soon would after a bulk load; the planner needs the row counts
    timings["bulk_s"] = round(time.monotonic() - started, 1)

    friends_since = now - timedelta(days=7)
    bulk_degrees = sorted(degree[pk] for pk in bulk)
    return {
        "users": User.objects.count(),
        "friendships": Friendship.objects.count(),
        "friends_per_bulk_user": {
            "min": bulk_degrees[0],
            "median": statistics.median(bulk_degrees),
            "max": bulk_degrees[-1],
        },
        "alice_friends": Friendship.objects.filter(user=alice).count(),
        "erin_friends": Friendship.objects.filter(user=erin).count(),
        "videos": Video.objects.count(),
        "published": Video.objects.filter(status=Video.Status.PUBLISHED).count(),
        "likes": Like.objects.count(),
        "most_likes_on_a_video": max(len(times) for times in liked.values()),
        "alice_friend_likes_7d": Like.objects.filter(
            user__in=Friendship.objects.filter(user=alice).values("friend"), created__gte=friends_since
        ).count(),
        "alice_views": View.objects.filter(viewer=alice).count(),
        **timings,
    }
