"""The groups each live was announced in, from their live posts (made before `announced_in`)."""

from django.db import migrations


def backfill(apps, schema_editor):
    Activity = apps.get_model("engagement", "Activity")
    Through = apps.get_model("lives", "Live").announced_in.through
    pairs = set(
        Activity.objects.filter(verb="live", live__isnull=False, group__isnull=False).values_list("live_id", "group_id")
    )
    Through.objects.bulk_create([Through(live_id=live, group_id=group) for live, group in pairs], ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("lives", "0003_room"),
        ("engagement", "0006_live_posts"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
