from django.apps import AppConfig


class EngagementConfig(AppConfig):
    name = "miniapp.engagement"
    verbose_name = "互动 / Engagement"
