"""Moderation in Django admin: the report queue, the audit log, bans and rate-limit hits
(`records`), videos (`videos`), users (`users`) and lives (`lives`). Every decision goes
through the services."""

from miniapp.moderation.admin import lives, records, users, videos  # noqa: F401  (each registers its models)
