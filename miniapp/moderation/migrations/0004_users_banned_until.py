from datetime import UTC, datetime

from django.db import migrations
from django.db.models import Q
from django.utils import timezone

BANNED_FOR_GOOD = datetime(3000, 1, 1, tzinfo=UTC)  # accounts.models.BANNED_FOR_GOOD, as of this migration


def fill_banned_until(apps, schema_editor):
    """Each user's `banned_until` from the bans in force now (the longest; no end: for good)."""
    Ban = apps.get_model("moderation", "Ban")
    User = apps.get_model("accounts", "User")
    in_force = Ban.objects.filter(lifted__isnull=True).filter(Q(until__isnull=True) | Q(until__gt=timezone.now()))
    ends = {}
    for user_id, until in in_force.values_list("user_id", "until"):
        end = until or BANNED_FOR_GOOD
        ends[user_id] = max(end, ends.get(user_id, end))
    for user_id, end in ends.items():
        User.objects.filter(pk=user_id).update(banned_until=end)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_user_banned_until"),
        ("moderation", "0003_delete_user_kind"),
    ]

    operations = [migrations.RunPython(fill_banned_until, migrations.RunPython.noop)]
