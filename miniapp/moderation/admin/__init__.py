"""Moderation in Django admin: the report queue, the audit log, bans and rate-limit hits
(`records`), videos (`videos`), users (`users`), lives (`lives`) and comments on videos
(`comments`). Every decision goes through the services."""

from miniapp.moderation.admin import comments, lives, records, users, videos  # noqa: F401  (each registers its models)
