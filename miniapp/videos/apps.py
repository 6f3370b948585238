from django.apps import AppConfig


class VideosConfig(AppConfig):
    name = "miniapp.videos"
    verbose_name = "视频 / Videos"
