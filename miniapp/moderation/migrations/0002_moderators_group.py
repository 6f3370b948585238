"""The "moderators" group: staff in it may review and decide, and nothing more.

They see videos, users, reports, bans and the audit log, and may hide, restore and
remove videos, ban and unban users and resolve reports. They cannot edit users
(passwords included), videos' own fields or the audit log.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "moderators"
PERMISSIONS = [
    ("videos", "view_video"),
    ("accounts", "view_user"),
    ("moderation", "view_report"),
    ("moderation", "view_ban"),
    ("moderation", "view_limithit"),
    ("moderation", "view_moderationaction"),
    ("moderation", "moderate_video"),
    ("moderation", "ban_user"),
    ("moderation", "resolve_report"),
]


def create_group(apps, schema_editor):
    # Permissions are normally made after all migrations ran; this one needs them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    wanted = [Permission.objects.get(content_type__app_label=app, codename=codename) for app, codename in PERMISSIONS]
    group.permissions.set(wanted)


def delete_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0001_initial"),
        ("videos", "0002_card_and_hot"),
        ("accounts", "0002_user_share_likes"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_group, delete_group)]
