from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from miniapp.moderation.services import moderator_make
from tests.fixtures.factories import make_video


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()


@pytest.fixture
def established(users, django_user_model):
    """The personas as accounts a month old: reports by alice, bob, carol and dave (who have
    friends) weigh 1 each toward hiding a video; erin's (no friends) weigh less."""
    django_user_model.objects.filter(pk__in=[user.pk for user in users.values()]).update(
        date_joined=timezone.now() - timedelta(days=30)
    )
    return users


@pytest.fixture
def moderator(users, django_user_model):
    """Staff in the "moderators" group, as `seed_demo` makes one."""
    user = django_user_model.objects.create_user(username="mod", display_name="审核员")
    moderator_make(user=user)
    return user


@pytest.fixture
def liked_video(users):
    """erin's video, liked by alice (so bob, carol and dave see it in 好友动态) and by bob."""
    from miniapp.engagement.services import like_create

    video = make_video(users["erin"], title="老王收麦子")
    like_create(user=users["alice"], video=video)
    like_create(user=users["bob"], video=video)
    return video
