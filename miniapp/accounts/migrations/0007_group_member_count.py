from django.db import migrations, models
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce


def count_members(apps, schema_editor):
    Group = apps.get_model("accounts", "Group")
    Membership = apps.get_model("accounts", "Membership")
    count = Membership.objects.filter(group_id=OuterRef("pk")).values("group_id").annotate(n=Count("*")).values("n")
    Group.objects.update(member_count=Coalesce(Subquery(count), 0))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_groups"),
    ]

    operations = [
        migrations.AddField(
            model_name="group",
            name="member_count",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.RunPython(count_members, migrations.RunPython.noop),
    ]
