from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "miniapp.realtime"
    verbose_name = "实时推送 / Realtime"

    def ready(self):
        from django.contrib.auth.signals import user_logged_out

        from miniapp.realtime.signouts import close_sockets_on_logout

        user_logged_out.connect(close_sockets_on_logout, dispatch_uid="miniapp.realtime.close_sockets_on_logout")
