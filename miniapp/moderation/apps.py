from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ModerationConfig(AppConfig):
    name = "miniapp.moderation"
    verbose_name = "审核 / Moderation"

    def ready(self):
        # The admin is the moderators' desk: named for the product, not "Django administration".
        from django.contrib import admin

        admin.site.site_header = _("miniapp moderation")
        admin.site.site_title = _("miniapp moderation")
        admin.site.index_title = _("Reports, takedowns and bans")
