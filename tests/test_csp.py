"""Content-Security-Policy: no page runs inline script, and the header forbids it."""

import re

import pytest
from django.core.management import call_command

from miniapp.moderation.services import moderator_make

pytestmark = pytest.mark.django_db

SCRIPT = re.compile(r"<script\b([^>]*)>", re.I)


def inline_scripts(html: str) -> list[str]:
    """Script tags that would run code written in the page itself."""
    return [attrs for attrs in SCRIPT.findall(html) if "src=" not in attrs and "application/json" not in attrs]


def test_the_policy_allows_only_this_sites_script_files(client):
    policy = client.get("/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert "'unsafe-inline'" not in directives["script-src"] and "'unsafe-eval'" not in directives["script-src"]
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"


def test_no_page_has_inline_script(client, users, django_user_model):
    call_command("seed_demo", verbosity=0)
    from miniapp.videos.models import Video

    video = Video.objects.filter(author__username="alice").first()
    pages = ["/", f"/v/{video.pk}/", "/api/docs/"]
    client.force_login(users["alice"])
    pages += ["/friends/", "/me/", f"/me/videos/{video.pk}/stats/", "/upload/", "/groups/"]
    from miniapp.accounts.models import Group

    pages.append(f"/groups/{Group.objects.get(name='王家村').pk}/")  # alice is in it (seed_demo)
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert inline_scripts(response.content.decode()) == [], url
    moderator = django_user_model.objects.create_user(username="mod")
    moderator_make(user=moderator)
    client.force_login(moderator)
    for url in [
        "/admin/",
        "/admin/videos/video/",
        f"/admin/videos/video/{video.pk}/change/",
        "/admin/moderation/report/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert inline_scripts(response.content.decode()) == [], url
