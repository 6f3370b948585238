from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from miniapp.lives.models import Live
from miniapp.lives.services import live_end


@admin.register(Live)
class LiveAdmin(admin.ModelAdmin):
    list_display = ["title", "host", "status", "source", "started", "ended", "runner"]
    list_filter = ["status", "source"]
    list_select_related = ["host"]
    search_fields = ["title", "host__username", "host__display_name"]
    raw_id_fields = ["host", "clip", "replay"]
    readonly_fields = ["key", "status", "started", "ended", "end_reason", "runner", "runner_beat", "created"]
    actions = ["end_lives"]

    @admin.action(description=_("End the selected lives (viewers see them end)"))
    def end_lives(self, request, queryset):
        ended = 0
        for live in queryset.exclude(status=Live.Status.ENDED):
            live_end(live=live, reason=str(_("Ended by a moderator.")))
            ended += 1
        self.message_user(request, _("%(count)d lives ended.") % {"count": ended}, messages.SUCCESS)
