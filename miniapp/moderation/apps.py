from django.apps import AppConfig


class ModerationConfig(AppConfig):
    name = "miniapp.moderation"
    verbose_name = "审核 / Moderation"
