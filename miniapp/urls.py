from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils import timezone
from django.views.decorators.http import last_modified
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from miniapp import health

STARTED = timezone.now().replace(microsecond=0)

handler404 = "miniapp.lib.api.not_found"

# A database error outside any view (loading the session, say) is a 503 like one inside.
handler500 = "miniapp.lib.unavailable.server_error"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("", include("miniapp.videos.urls")),
    path("", include("miniapp.accounts.urls")),
    path("", include("miniapp.engagement.urls")),
    path("", include("miniapp.realtime.urls")),
    path("", include("miniapp.moderation.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    # Only our own strings (LOCALE_PATHS), not every installed app's: keeps the first screen small.
    # The catalog changes only with a deploy: browsers revalidate it and get a 304.
    path(
        "jsi18n/",
        last_modified(lambda request: STARTED)(JavaScriptCatalog.as_view(packages=["miniapp.videos"])),
        name="javascript-catalog",
    ),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

if settings.MOCK_OAUTH_ENABLED:
    urlpatterns.append(path("mockwx/", include("miniapp.mockwx.urls")))
