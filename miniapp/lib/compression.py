"""Compressed pages and API answers.

Static files come compressed already: `collectstatic` writes gzip and Brotli copies once
(WhiteNoise's CompressedManifestStaticFilesStorage) and WhiteNoise sends the one a browser
accepts, before this middleware sees the request. This compresses what the views make:
HTML, JSON, the JavaScript catalog, SVG avatars. Not media: MP4 and JPEG are compressed
already, and a gzipped byte range is not the range Safari asked for.
"""

from django.middleware.gzip import GZipMiddleware

TEXT_TYPES = ("application/json", "application/javascript", "application/vnd.oai.openapi", "image/svg+xml")


def is_text(content_type: str) -> bool:
    mime = content_type.split(";", 1)[0].strip().lower()
    return mime.startswith("text/") or mime.endswith("+json") or mime in TEXT_TYPES


class TextGZipMiddleware(GZipMiddleware):
    """Django's GZipMiddleware (with its BREACH mitigation: random bytes in each gzip
    header, on top of the CSRF token's per-response mask), for text answers only."""

    def process_response(self, request, response):
        if not is_text(response.get("Content-Type", "")):
            return response
        return super().process_response(request, response)
