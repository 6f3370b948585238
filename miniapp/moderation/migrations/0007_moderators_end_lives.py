"""Moderators see lives in admin and may end them (with a reason, for the audit log).

Adds two permissions to the "moderators" group that 0002 made, if it is there (a database
without it gets the whole list from `roles.moderators_group()` when it is next needed).
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "moderators"
PERMISSIONS = [("lives", "view_live"), ("moderation", "end_live")]


def _permissions(apps):
    Permission = apps.get_model("auth", "Permission")
    return [Permission.objects.get(content_type__app_label=app, codename=codename) for app, codename in PERMISSIONS]


def add_permissions(apps, schema_editor):
    # Permissions are normally made after all migrations ran; these are needed now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    group = apps.get_model("auth", "Group").objects.filter(name=GROUP).first()
    if group is not None:
        group.permissions.add(*_permissions(apps))


def remove_permissions(apps, schema_editor):
    group = apps.get_model("auth", "Group").objects.filter(name=GROUP).first()
    if group is not None:
        group.permissions.remove(*_permissions(apps))


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0006_live_reports_and_live_end"),
        ("lives", "0002_replay_choice"),
    ]

    operations = [migrations.RunPython(add_permissions, remove_permissions)]
