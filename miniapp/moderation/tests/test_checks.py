import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from miniapp.moderation import services
from miniapp.moderation.models import Ban, ModerationAction

pytestmark = pytest.mark.django_db


def test_each_check_says_why_and_writes_nothing(users, moderator, django_user_model):
    staff = django_user_model.objects.create_user(username="mod2", is_staff=True)
    refusals = [
        (services.user_ban_check, {"user": moderator, "moderator": moderator}, PermissionDenied),
        (services.user_ban_check, {"user": staff, "moderator": moderator}, PermissionDenied),
        (services.user_delete_check, {"user": moderator, "moderator": moderator}, PermissionDenied),
        (services.video_moderate_check, {"kind": "ban"}, ValidationError),
        (services.reports_dismiss_check, {"moderator": None}, PermissionDenied),
    ]
    for check, arguments, refusal in refusals:
        with pytest.raises(refusal) as why:
            check(**arguments)
        assert str(why.value)
    services.user_ban_check(user=users["alice"], moderator=moderator)
    services.user_ban_check(user=staff, moderator=None)  # the automatic rules leave staff alone, unrefused
    services.video_moderate_check(kind="remove")
    services.reports_dismiss_check(moderator=moderator)
    assert not ModerationAction.objects.exists() and not Ban.objects.exists()


def test_each_service_calls_its_check(users, moderator, liked_video):
    with pytest.raises(PermissionDenied):
        services.user_unban(user=moderator, moderator=moderator, reason="x")
    with pytest.raises(ValidationError):
        services.video_moderate(video=liked_video, kind="ban", moderator=moderator, reason="x")
    with pytest.raises(PermissionDenied):
        services.reports_dismiss(reports=liked_video.reports.all(), moderator=None, reason="x")
    assert not ModerationAction.objects.exists()
