"""The "moderators" role: staff who may review and decide, and nothing more.

Migrations made the group with these permissions (0002, and 0007 for the lives' two, each with
its own frozen copy); `moderators_group()` puts it back if it is missing, e.g. after a test
flushed the tables.
"""

from django.contrib.auth.models import Group, Permission

MODERATORS = "moderators"
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
    ("lives", "view_live"),
    ("moderation", "end_live"),
]


def moderators_group() -> Group:
    group, created = Group.objects.get_or_create(name=MODERATORS)
    if created:
        for app_label, codename in PERMISSIONS:
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return group
