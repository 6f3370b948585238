from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.http import condition
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from miniapp import health
from miniapp.lib.api import api_not_found

STARTED = timezone.now().replace(microsecond=0)


def catalog_etag(request) -> str:
    return f'"{STARTED.timestamp():.0f}-{get_language()}"'


handler404 = "miniapp.lib.api.not_found"

# A database error outside any view (loading the session, say) is a 503 like one inside.
handler500 = "miniapp.lib.unavailable.server_error"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("", include("miniapp.lives.urls")),  # before videos.urls: a live's media files
    path("", include("miniapp.videos.urls")),
    path("", include("miniapp.accounts.urls")),
    path("", include("miniapp.engagement.urls")),
    path("", include("miniapp.realtime.urls")),
    path("", include("miniapp.moderation.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    # Only our own strings (LOCALE_PATHS), not every installed app's: keeps the first screen small.
    # The catalog changes only with a deploy or a change of language: browsers revalidate it
    # and get a 304. (An ETag, not just a date: `If-None-Match: *` matches only a resource
    # with one, and a catalog of the other language must not match.)
    path(
        "jsi18n/",
        condition(etag_func=catalog_etag, last_modified_func=lambda request: STARTED)(
            JavaScriptCatalog.as_view(packages=["miniapp.videos"])
        ),
        name="javascript-catalog",
    ),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # Last of the /api/ routes: what none of them matched is the API's JSON 404.
    re_path(r"^api/", api_not_found, name="api-not-found"),
]

if settings.MOCK_OAUTH_ENABLED:
    urlpatterns.append(path("mockwx/", include("miniapp.mockwx.urls")))
