from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "miniapp.realtime"
    verbose_name = "实时推送 / Realtime"
