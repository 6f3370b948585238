"""Moderation in Django admin: the report queue, the audit log, bans and rate-limit hits
(`records`), videos (`videos`) and users (`users`). Every decision goes through the services."""

from miniapp.moderation.admin import records, users, videos  # noqa: F401  (each registers its models)
