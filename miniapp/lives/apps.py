from django.apps import AppConfig


class LivesConfig(AppConfig):
    name = "miniapp.lives"
    verbose_name = "直播 / Lives"
