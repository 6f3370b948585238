import pytest
from django.test import Client
from django.utils import timezone

from miniapp.moderation import services
from miniapp.moderation.models import ModerationAction, Report
from miniapp.videos.models import Video

pytestmark = pytest.mark.django_db

Kind = ModerationAction.Kind
ADMIN_PAGES = [
    "/admin/",
    "/admin/videos/video/",
    "/admin/moderation/report/",
    "/admin/moderation/moderationaction/",
    "/admin/accounts/user/",
]


@pytest.fixture
def mod_client(moderator):
    client = Client()
    client.force_login(moderator)
    return client


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_non_staff_are_sent_to_the_admin_login(client, users, url):
    for who in [None, users["alice"]]:
        if who:
            client.force_login(who)
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_moderators_see_every_moderation_page(mod_client, liked_video, url):
    assert mod_client.get(url).status_code == 200


def test_the_admin_is_named_for_the_product_with_its_icon_and_plain_model_names(mod_client, admin_client):
    page = mod_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "赞享 · 审核后台" in page and "Django" not in page
    assert 'rel="icon"' in page and "miniapp/icon" in page
    hits = admin_client.get("/admin/moderation/limithit/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "触发频率限制" in hits and "limit hit" not in hits.lower()
    english = mod_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "miniapp moderation" in english


def test_a_lists_count_has_its_measure_word(mod_client, users, liked_video):
    services.report_create(reporter=users["carol"], video=liked_video, reason="spam")
    page = mod_client.get("/admin/moderation/report/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "举报：共 1 项" in page and "1 举报" not in page
    english = mod_client.get("/admin/moderation/report/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "1 report" in english


def test_the_video_list_shows_poster_status_counts_and_open_reports(mod_client, users, liked_video):
    services.report_create(reporter=users["carol"], video=liked_video, reason="spam")
    page = mod_client.get("/admin/videos/video/?reported=open").content.decode()
    assert liked_video.poster.url in page and "老王收麦子" in page
    assert 'class="field-open_reports">1<' in page
    assert 'class="field-like_count">2<' in page
    assert "?reported=open" in mod_client.get("/admin/videos/video/").content.decode()  # the filter


def test_the_video_page_has_the_open_reports_the_buttons_and_the_history(mod_client, users, liked_video):
    services.report_create(reporter=users["carol"], video=liked_video, reason="spam", text="加微信")
    page = mod_client.get(f"/admin/videos/video/{liked_video.pk}/change/").content.decode()
    assert "加微信" in page
    assert f"/admin/videos/video/{liked_video.pk}/decide/hide/" in page
    assert f"/admin/moderation/moderationaction/?video__id__exact={liked_video.pk}" in page


def test_hiding_from_the_list_needs_a_reason(mod_client, liked_video):
    form = {"action": "hide", "_selected_action": [liked_video.pk]}
    asked = mod_client.post("/admin/videos/video/", form)
    assert asked.status_code == 200 and 'name="reason"' in asked.content.decode()
    refused = mod_client.post("/admin/videos/video/", {**form, "confirm": "yes", "reason": "  "})
    assert refused.status_code == 200
    assert "Give a reason" in refused.content.decode() or "原因" in refused.content.decode()
    assert Video.objects.get(pk=liked_video.pk).status == Video.Status.PUBLISHED
    done = mod_client.post("/admin/videos/video/", {**form, "confirm": "yes", "reason": "广告"}, follow=True)
    assert done.status_code == 200
    assert Video.objects.get(pk=liked_video.pk).status == Video.Status.HIDDEN
    action = ModerationAction.objects.get()
    assert (action.kind, action.reason, action.automatic) == ("hide", "广告", False)


def test_the_buttons_of_a_video_page_remove_and_restore(mod_client, moderator, liked_video):
    url = f"/admin/videos/video/{liked_video.pk}/decide/remove/"
    assert 'name="reason"' in mod_client.get(url).content.decode()
    response = mod_client.post(url, {"confirm": "yes", "reason": "违法"})
    assert response.status_code == 302 and response["Location"].endswith(f"/video/{liked_video.pk}/change/")
    assert Video.objects.get(pk=liked_video.pk).status == Video.Status.REMOVED
    again = mod_client.post(url, {"confirm": "yes", "reason": "again"}, follow=True)
    assert "nothing changed" in again.content.decode() or "未做任何更改" in again.content.decode()
    assert ModerationAction.objects.count() == 1
    mod_client.post(f"/admin/videos/video/{liked_video.pk}/decide/restore/", {"confirm": "yes", "reason": "申诉"})
    assert Video.objects.get(pk=liked_video.pk).status == Video.Status.PUBLISHED


def test_the_report_queue_lists_open_reports_first_and_escapes_their_text(mod_client, users, liked_video, moderator):
    old = services.report_create(reporter=users["carol"], video=liked_video, reason="other", text="old")[0]
    services.reports_dismiss(reports=Report.objects.filter(pk=old.pk), moderator=moderator, reason="fine")
    services.report_create(reporter=users["dave"], video=liked_video, reason="other", text="<script>alert(1)</script>")
    page = mod_client.get("/admin/moderation/report/").content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.index("&lt;script&gt;") < page.index(">old<")
    assert mod_client.get("/admin/moderation/report/?status__exact=open&q=alert").status_code == 200


def test_reports_can_be_dismissed_with_a_reason(mod_client, users, liked_video):
    report, _ = services.report_create(reporter=users["carol"], video=liked_video, reason="spam")
    form = {"action": "dismiss", "_selected_action": [report.pk], "confirm": "yes", "reason": "不是广告"}
    mod_client.post("/admin/moderation/report/", form)
    report.refresh_from_db()
    assert (report.status, report.outcome) == ("resolved", "dismiss")
    assert Video.objects.get(pk=liked_video.pk).status == Video.Status.PUBLISHED


def test_the_audit_log_is_read_only_for_everyone(mod_client, moderator, liked_video, django_user_model):
    services.video_moderate(video=liked_video, kind=Kind.HIDE, moderator=moderator, reason="spam")
    action = ModerationAction.objects.get()
    root = django_user_model.objects.create_superuser(username="root", password="x" * 12)
    boss = Client()
    boss.force_login(root)
    for client in (mod_client, boss):
        assert client.get(f"/admin/moderation/moderationaction/?video__id__exact={liked_video.pk}").status_code == 200
        assert client.get("/admin/moderation/moderationaction/add/").status_code == 403
        assert (
            client.post(f"/admin/moderation/moderationaction/{action.pk}/delete/", {"post": "yes"}).status_code == 403
        )
        changed = client.post(f"/admin/moderation/moderationaction/{action.pk}/change/", {"reason": "edited"})
        assert changed.status_code == 403
    assert ModerationAction.objects.get().reason == "spam"


def test_a_moderator_cannot_edit_users_or_their_passwords(mod_client, users):
    alice = users["alice"]
    assert mod_client.get(f"/admin/accounts/user/{alice.pk}/password/").status_code == 403
    assert (
        mod_client.post(f"/admin/accounts/user/{alice.pk}/password/", {"password1": "x", "password2": "x"}).status_code
        == 403
    )
    assert mod_client.post(f"/admin/accounts/user/{alice.pk}/change/", {"username": "hacked"}).status_code == 403
    assert mod_client.get("/admin/auth/group/").status_code == 403


def test_a_moderator_bans_with_a_reason_and_an_end_and_lifts_it(mod_client, users):
    alice = users["alice"]
    url = f"/admin/accounts/user/{alice.pk}/decide/ban/"
    refused = mod_client.post(url, {"confirm": "yes", "reason": "", "until": ""})
    assert refused.status_code == 200 and not alice.bans.exists()
    past = mod_client.post(url, {"confirm": "yes", "reason": "spam", "until": "2020-01-01T00:00"})
    assert past.status_code == 200 and not alice.bans.exists()
    mod_client.post(url, {"confirm": "yes", "reason": "刷赞", "until": "2099-01-01T00:00"})
    ban = alice.bans.get()
    assert ban.reason == "刷赞" and timezone.localtime(ban.until).year == 2099
    page = mod_client.get("/admin/accounts/user/?banned=yes").content.decode()
    assert "alice" in page
    user_page = mod_client.get(f"/admin/accounts/user/{alice.pk}/change/").content.decode()
    assert "刷赞" in user_page and f"?user__id__exact={alice.pk}" in user_page
    form = {"action": "unban", "_selected_action": [alice.pk], "confirm": "yes", "reason": "申诉通过"}
    mod_client.post("/admin/accounts/user/", form)
    ban.refresh_from_db()
    assert ban.lifted is not None


def test_staff_outside_the_moderators_group_cannot_moderate(users, liked_video, django_user_model):
    staff = django_user_model.objects.create_user(username="intern", is_staff=True)
    client = Client()
    client.force_login(staff)
    assert client.get("/admin/videos/video/").status_code == 403
    url = f"/admin/videos/video/{liked_video.pk}/decide/hide/"
    client.post(url, {"confirm": "yes", "reason": "x"})
    assert Video.objects.get(pk=liked_video.pk).status == Video.Status.PUBLISHED
    refused = client.post(f"/admin/accounts/user/{users['alice'].pk}/decide/ban/", {"confirm": "yes", "reason": "x"})
    assert refused.status_code == 302  # back to the user's page (a 403 for this staff member), no form
    assert refused["Location"] == f"/admin/accounts/user/{users['alice'].pk}/change/"
    assert not users["alice"].bans.exists()


def test_a_moderator_without_a_right_does_not_get_its_actions(mod_client, moderator, liked_video):
    from django.contrib.auth.models import Permission

    moderator.groups.first().permissions.remove(Permission.objects.get(codename="moderate_video"))
    page = mod_client.get("/admin/videos/video/").content.decode()
    assert 'value="hide"' not in page
    assert "/decide/hide/" not in mod_client.get(f"/admin/videos/video/{liked_video.pk}/change/").content.decode()
    mod_client.post(
        "/admin/videos/video/",
        {"action": "hide", "_selected_action": [liked_video.pk], "confirm": "yes", "reason": "x"},
    )
    assert Video.objects.get(pk=liked_video.pk).status == Video.Status.PUBLISHED


def test_banning_a_fellow_moderator_from_admin_is_refused_with_a_message(mod_client, django_user_model):
    other = django_user_model.objects.create_user(username="mod2", is_staff=True)
    response = mod_client.post(
        f"/admin/accounts/user/{other.pk}/decide/ban/", {"confirm": "yes", "reason": "x"}, follow=True
    )
    assert "superuser" in response.content.decode() or "超级用户" in response.content.decode()
    assert not other.bans.exists()


def test_the_report_queue_hides_the_reported_videos_with_a_reason(mod_client, users, liked_video):
    import re

    from tests.fixtures.factories import make_video

    other = make_video(users["erin"], title="另一个")
    services.report_create(reporter=users["dave"], video=other, reason="other")
    report, _ = services.report_create(reporter=users["carol"], video=liked_video, reason="spam")
    asked = mod_client.post("/admin/moderation/report/", {"action": "hide_videos", "_selected_action": [report.pk]})
    page = asked.content.decode()
    assert "老王收麦子" in page and "另一个" not in page
    # The page posts the selected reports back to their action, as a browser sends them.
    selected = re.findall(r'name="_selected_action" value="(\d+)"', page)
    assert selected == [str(report.pk)]
    form = {"action": "hide_videos", "_selected_action": selected, "confirm": "yes", "reason": "广告"}
    mod_client.post("/admin/moderation/report/", form)
    statuses = dict(Video.objects.values_list("title", "status"))
    assert statuses == {"老王收麦子": Video.Status.HIDDEN, "另一个": Video.Status.PUBLISHED}
    report.refresh_from_db()
    assert (report.status, report.outcome) == ("resolved", "hide")


def test_ban_and_lift_are_offered_only_where_the_rules_allow_them(mod_client, moderator, users):
    from django.utils import translation
    from django.utils.translation import gettext

    alice = users["alice"]
    assert f"/{alice.pk}/decide/ban/" in mod_client.get(f"/admin/accounts/user/{alice.pk}/change/").content.decode()
    own_page = mod_client.get(f"/admin/accounts/user/{moderator.pk}/change/").content.decode()
    assert "/decide/ban/" not in own_page and "/decide/unban/" not in own_page  # nobody bans themselves
    asked = mod_client.post("/admin/accounts/user/", {"action": "ban", "_selected_action": [alice.pk, moderator.pk]})
    with translation.override("zh-hans"):
        assert gettext("You cannot ban or unban yourself.") in asked.content.decode()  # said before confirming
