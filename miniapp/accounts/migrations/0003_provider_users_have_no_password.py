"""Passwords a provider user set through allauth's local pages, while they were mounted, go.

Sign-in is through the provider only, so such a password could only ever be used if the
user were later made staff (the admin's login). Staff and superusers keep theirs.
"""

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX, make_password
from django.db import migrations


def forget_provider_passwords(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    provider_users = User.objects.filter(socialaccount__isnull=False, is_staff=False, is_superuser=False)
    for user in provider_users.exclude(password__startswith=UNUSABLE_PASSWORD_PREFIX).distinct():
        user.password = make_password(None)
        user.save(update_fields=["password"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_user_share_likes"),
        ("socialaccount", "0006_alter_socialaccount_extra_data"),
    ]

    operations = [migrations.RunPython(forget_provider_passwords, migrations.RunPython.noop)]
