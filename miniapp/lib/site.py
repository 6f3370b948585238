"""Absolute URLs, on SITE_URL.

Never from the request: `build_absolute_uri` takes the host from the `Host` header, which
anyone can set to any of ALLOWED_HOSTS with any port, and the API, Open Graph tags, share
links and QR codes then carried it (to link previews and caches too).

Our own pages load media from the origin they were opened at, whatever SITE_URL says
(`localhost` for `127.0.0.1`): their Content-Security-Policy takes media from there only.
`on_this_site` makes a URL on SITE_URL a path for them, and static/videos/feed.js does the
same for the cards it loads from the API.
"""

from urllib.parse import urljoin

from django.conf import settings


def absolute_url(location: str) -> str:
    """`location` (a path, or a URL that is absolute already, as object storage gives) on SITE_URL."""
    return urljoin(settings.SITE_URL + "/", location)


def on_this_site(url: str) -> str:
    """A URL on SITE_URL as a path (any other URL as it is), for a page of ours to load
    from the origin it was opened at."""
    site = settings.SITE_URL
    return url[len(site) :] if url.startswith(site + "/") else url
