import contextlib
import hashlib
import os
import secrets
import shutil
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.urls import reverse

from miniapp.accounts import services as accounts
from miniapp.accounts.groups import groups_sync
from miniapp.accounts.models import User
from miniapp.engagement.services import like_create
from miniapp.mockwx import services as mockwx
from miniapp.mockwx.groups import group_set, groups_claims
from miniapp.mockwx.models import GROUP_MAX_MEMBERS, Identity
from miniapp.moderation.services import moderator_make
from miniapp.videos import demo_clips, posters, share_card
from miniapp.videos.demo_clips import DEMO_CLIPS, make_demo_clip
from miniapp.videos.models import Video
from miniapp.videos.posters import write_page_poster
from miniapp.videos.processing import PreparedVideo, probe
from miniapp.videos.services import video_create
from miniapp.videos.share_card import write_card

DEMO_FRIENDS = {
    "alice": ["bob", "carol", "dave"],
    "bob": ["alice"],
    "carol": ["alice"],
    "dave": ["alice"],
    "erin": [],
}

DEMO_LIVE_TITLE = "carol 的田间直播"
# Demo clips made once and kept here, by what draws them and the clip: seeding again (each test
# that seeds, `make run` on a new database) copies them instead of encoding them again.
DEMO_CLIP_CACHE = "demo-clips"

# The provider's groups (owner first): erin is nobody's friend, so a share into 王家村 reaches
# someone a share to friends cannot.
DEMO_GROUPS = {
    "王家村": ["alice", "bob", "carol", "erin"],
    "家族群": ["alice", "dave"],
}
LOAD_GROUP = "load"


# Staff in the "moderators" group, signing in at /admin/ with the password seed_demo writes.
DEMO_MODERATOR = "moderator"
MODERATOR_PASSWORD_FILE = "moderator-password"

# Who likes which demo clip (by position in DEMO_CLIPS).
DEMO_LIKES = {"bob": [0, 1], "carol": [0, 2], "dave": [3], "erin": [0, 4]}


def _loopback_twins(url: str) -> list[str]:
    """`url`, plus the same URL on localhost ↔ 127.0.0.1, so either host signs in."""
    parts = urlsplit(url)
    twins = {"127.0.0.1": "localhost", "localhost": "127.0.0.1"}
    urls = [url]
    if parts.hostname in twins:
        netloc = parts.netloc.replace(parts.hostname, twins[parts.hostname], 1)
        urls.append(urlunsplit(parts._replace(netloc=netloc)))
    return urls


def demo_clip_files(*, index: int, clip: dict) -> tuple[Path, Path, Path, Path]:
    """A demo clip's video, poster, card and page poster (WebP), from VAR_DIR/demo-clips, made there
    first if missing."""
    drawn_by = b"".join(Path(module.__file__).read_bytes() for module in (demo_clips, share_card, posters))
    key = hashlib.sha256(drawn_by + repr((index, clip["title"], clip["seconds"])).encode()).hexdigest()[:20]
    cache = Path(settings.VAR_DIR) / DEMO_CLIP_CACHE
    folder = cache / key
    files = folder / "video.mp4", folder / "poster.jpg", folder / "card.jpg", folder / "poster.webp"
    if all(path.is_file() for path in files):
        return files
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="making-", dir=cache) as tmp:
        made = Path(tmp) / key
        made.mkdir()
        video, poster, card = made / "video.mp4", made / "poster.jpg", made / "card.jpg"
        make_demo_clip(video_path=video, poster_path=poster, index=index, title=clip["title"], seconds=clip["seconds"])
        write_card(poster, card)
        write_page_poster(poster, made / "poster.webp")
        if not all(path.is_file() for path in files):
            shutil.rmtree(folder, ignore_errors=True)  # what is left of it (a file deleted by hand)
        with contextlib.suppress(OSError):  # another process made it meanwhile: the same files
            os.rename(made, folder)
    return files


class Command(BaseCommand):
    help = (
        "Load the demo data (idempotent): mock identities alice, bob, carol, dave, erin and "
        "their friendships, the demo client the app signs in with, the personas as app users and "
        "at least six demo videos made with PyAV, and a moderator (staff, in the moderators group). "
        "--users N --friends K adds user0001…userN for load tests, and the group "
        "'load' of the first min(N, 500) of them."
    )

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, default=0, help="extra identities user0001…userN")
        parser.add_argument("--friends", type=int, default=0, help="friends each extra identity has")

    def handle(self, users, friends, **options):
        if users < 0 or friends < 0:
            raise CommandError("--users and --friends must be 0 or more")
        if users and friends >= users:
            raise CommandError("--friends must be smaller than --users")
        with transaction.atomic():
            self.seed_identities()
            self.seed_groups()
            if users:
                self.seed_load_users(users, friends)
                self.seed_load_group(users)
            client = self.seed_client()
            if client is not None:
                self.seed_app_users(client)
            self.seed_moderator()
        if client is not None:
            # Outside the transaction: each video stores its files and row together.
            self.seed_videos()
            self.seed_live()
        self.stdout.write(self.style.SUCCESS("Demo data ready."))

    def seed_identities(self):
        for nickname, friend_nicknames in DEMO_FRIENDS.items():
            identity = mockwx.identity_get_or_create(nickname=nickname)
            identity.friends.add(*[mockwx.identity_get_or_create(nickname=n) for n in friend_nicknames])

    def seed_groups(self):
        for name, nicknames in DEMO_GROUPS.items():
            members = [mockwx.identity_get_or_create(nickname=n) for n in nicknames]
            group_set(name=name, members=members, owner=members[0])

    def seed_load_group(self, count: int):
        members = list(Identity.objects.filter(nickname__in=[f"user{i:04d}" for i in range(1, count + 1)]))
        members = sorted(members, key=lambda identity: identity.nickname)[:GROUP_MAX_MEMBERS]
        group_set(name=LOAD_GROUP, members=members, owner=members[0])

    def seed_load_users(self, count: int, friends: int):
        """user0001 is everyone's friend (a hub); the others have `friends` friends among them."""
        names = [f"user{i:04d}" for i in range(1, count + 1)]
        existing = set(Identity.objects.filter(nickname__in=names).values_list("nickname", flat=True))
        Identity.objects.bulk_create([Identity(nickname=n) for n in names if n not in existing])
        ids = dict(Identity.objects.filter(nickname__in=names).values_list("nickname", "pk"))
        hub = ids[names[0]]
        through = Identity.friends.through
        others = [ids[name] for name in names[1:]]
        n = len(others)
        pairs = set()
        for i, me in enumerate(others):
            pairs.add((hub, me))
            # A ring: the next K/2 neighbours each side gives everyone K friends
            # (K odd: the one opposite too, when the ring has an even length).
            neighbours = [others[(i + step) % n] for step in range(1, friends // 2 + 1)]
            if friends % 2 and n % 2 == 0:
                neighbours.append(others[(i + n // 2) % n])
            pairs.update((me, other) for other in neighbours if other != me)
        # Replace, not add to, the load users' graph, so a second run with another K is exact.
        everyone = [hub, *others]
        through.objects.filter(from_identity_id__in=everyone, to_identity_id__in=everyone).delete()
        rows = []
        for a, b in pairs:
            rows.append(through(from_identity_id=a, to_identity_id=b))
            rows.append(through(from_identity_id=b, to_identity_id=a))
        through.objects.bulk_create(rows, ignore_conflicts=True)

    def seed_client(self):
        """The client the app signs in with, when the app signs in with the mock provider."""
        if not settings.MOCK_OAUTH_ENABLED or settings.OIDC_CLIENT_ID != settings.DEMO_CLIENT_ID:
            return None
        callback = reverse("openid_connect_callback", kwargs={"provider_id": settings.OIDC_PROVIDER_ID})
        redirect_uris = _loopback_twins(f"{settings.SITE_URL}{callback}")
        client, _ = mockwx.client_register(
            name="miniapp",
            client_id=settings.OIDC_CLIENT_ID,
            secret=settings.OIDC_CLIENT_SECRET,
            redirect_uris=redirect_uris,
        )
        return client

    def seed_app_users(self, client):
        """The demo personas as app users with their friends and groups, as if each had signed in once."""
        provider = settings.OIDC_PROVIDER_ID
        for identity in Identity.objects.filter(nickname__in=DEMO_FRIENDS):
            claims = mockwx.profile_claims(client=client, identity=identity)
            user = accounts.user_get_or_create_for_provider(
                provider=provider, uid=claims["sub"], nickname=identity.nickname, avatar_url=claims["picture"]
            )
            accounts.friends_sync(
                user=user,
                provider=provider,
                uid=claims["sub"],
                friends=mockwx.friends_claims(client=client, identity=identity),
            )
            groups_sync(
                user=user, provider=provider, uid=claims["sub"], groups=groups_claims(client=client, identity=identity)
            )

    def seed_moderator(self):
        """The demo moderator: a local account with a password of its own, written to
        var/moderator-password. Never a provider persona: in mock mode anyone can sign in
        as any persona, and that must not open the admin."""
        path = settings.VAR_DIR / MODERATOR_PASSWORD_FILE
        user, created = User.objects.get_or_create(username=DEMO_MODERATOR, defaults={"display_name": "审核员"})
        if created or not path.exists() or not user.has_usable_password():
            password = secrets.token_urlsafe(12)
            user.set_password(password)
            user.save(update_fields=["password"])
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(password + "\n")
            path.chmod(0o600)
        moderator_make(user=user)
        self.stdout.write(f"Demo moderator: sign in at /admin/ as “{DEMO_MODERATOR}”, password in {path}")

    def seed_videos(self):
        """The demo clips, made with PyAV at seed time (no video files in the repository)."""
        authors = list(User.objects.filter(username__in=DEMO_FRIENDS).order_by("pk"))
        for index, clip in enumerate(DEMO_CLIPS):
            author = authors[index % len(authors)]
            if Video.objects.filter(author=author, title=clip["title"]).exists():
                continue
            video_path, poster_path, card_path, page_poster_path = demo_clip_files(index=index, clip=clip)
            prepared = PreparedVideo.of(
                video_path, poster_path, probe(video_path), card_path=card_path, page_poster_path=page_poster_path
            )
            video_create(author=author, title=clip["title"], description=clip["description"], prepared=prepared)
        self.seed_likes()

    def seed_live(self):
        """A live on air: one of carol's clips played as live (`lives.runner` plays it once a
        server runs), so that the first page shows a room. Again only when none is on air."""
        from miniapp.lives.models import Live
        from miniapp.lives.services import live_create, live_start

        host = User.objects.filter(username="carol").first()
        clip = Video.objects.filter(author=host, status=Video.Status.PUBLISHED).order_by("pk").first()
        if clip is None or Live.objects.filter(host=host, status=Live.Status.LIVE).exists():
            return
        live_start(live=live_create(host=host, title=DEMO_LIVE_TITLE, clip=clip))

    def seed_likes(self):
        """Some likes, through the same service as a tap (idempotent: a repeat is a no-op)."""
        users = {u.username: u for u in User.objects.filter(username__in=DEMO_FRIENDS)}
        titles = [clip["title"] for clip in DEMO_CLIPS]
        videos = {v.title: v for v in Video.objects.filter(title__in=titles, author__in=users.values())}
        for username, clip_numbers in DEMO_LIKES.items():
            for number in clip_numbers:
                video = videos.get(titles[number])
                if video is not None:
                    like_create(user=users[username], video=video)
