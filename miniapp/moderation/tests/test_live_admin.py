"""Lives in admin: the list a moderator reviews, and ending a live with a reason (from the list,
from the live's page, from the report queue)."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from miniapp.lives.models import Live
from miniapp.moderation import services
from miniapp.moderation.models import ModerationAction, Report

pytestmark = pytest.mark.django_db


@pytest.fixture
def mod_client(moderator):
    client = Client()
    client.force_login(moderator)
    return client


def test_the_list_shows_status_host_source_times_and_open_reports(mod_client, users, clip_live, camera_live):
    services.report_create(reporter=users["alice"], live=clip_live, reason="spam")
    services.report_create(reporter=users["bob"], live=clip_live, reason="sexual")
    response = mod_client.get("/admin/lives/live/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "广场舞直播" in page and "村口直播" in page and "carol" in page
    for column in ["status", "source", "started", "ended", "open_reports"]:
        assert f'column-{column}"' in page
    assert 'class="field-open_reports">2<' in page
    reported = mod_client.get("/admin/lives/live/?reported=open").content.decode()
    assert "广场舞直播" in reported and "村口直播" not in reported


def test_the_live_page_has_its_open_reports_the_end_button_and_the_history(mod_client, users, clip_live):
    services.report_create(reporter=users["alice"], live=clip_live, reason="other", text="<b>骂人</b>")
    page = mod_client.get(f"/admin/lives/live/{clip_live.pk}/change/").content.decode()
    assert "&lt;b&gt;骂人&lt;/b&gt;" in page and "<b>骂人" not in page
    assert f"/admin/lives/live/{clip_live.pk}/end/" in page
    assert f"/admin/moderation/moderationaction/?live__id__exact={clip_live.pk}" in page
    assert mod_client.get(f"/admin/moderation/moderationaction/?live__id__exact={clip_live.pk}").status_code == 200


def test_ending_from_the_list_asks_a_reason_then_ends_it_for_good(mod_client, moderator, clip_live, camera_live):
    form = {"action": "end_lives", "_selected_action": [clip_live.pk, camera_live.pk]}
    asked = mod_client.post("/admin/lives/live/", form)
    assert asked.status_code == 200
    page = asked.content.decode()
    assert 'name="reason"' in page and "广场舞直播" in page and "村口直播" in page
    assert Live.objects.filter(status="live").count() == 2

    refused = mod_client.post("/admin/lives/live/", {**form, "confirm": "yes", "reason": " "})
    assert refused.status_code == 200 and 'name="reason"' in refused.content.decode()
    assert Live.objects.filter(status="live").count() == 2

    done = mod_client.post("/admin/lives/live/", {**form, "confirm": "yes", "reason": "直播内容违规"})
    assert done.status_code == 302 and done["Location"] == "/admin/lives/live/"
    for live in Live.objects.all():
        assert (live.status, live.end_reason, live.replay, live.replay_pending) == (
            "ended",
            "直播内容违规",
            None,
            False,
        )
    actions = {(a.kind, a.live_id, a.moderator) for a in ModerationAction.objects.all()}
    assert actions == {("end_live", clip_live.pk, moderator), ("end_live", camera_live.pk, moderator)}

    again = mod_client.post("/admin/lives/live/", {**form, "confirm": "yes", "reason": "again"}, follow=True)
    assert "has ended already" in again.content.decode() or "已经结束" in again.content.decode()
    assert ModerationAction.objects.count() == 2


def test_the_button_of_a_live_page_ends_it(mod_client, clip_live):
    url = f"/admin/lives/live/{clip_live.pk}/end/"
    assert 'name="reason"' in mod_client.get(url).content.decode()
    response = mod_client.post(url, {"confirm": "yes", "reason": "违规"})
    assert response.status_code == 302 and response["Location"] == f"/admin/lives/live/{clip_live.pk}/change/"
    assert Live.objects.get(pk=clip_live.pk).status == "ended"
    assert ModerationAction.objects.get().kind == "end_live"
    assert f"/lives/live/{clip_live.pk}/end/" not in mod_client.get(response["Location"]).content.decode()


def test_the_report_queue_shows_the_live_and_ends_it(mod_client, users, clip_live):
    report, _ = services.report_create(reporter=users["alice"], live=clip_live, reason="violence")
    queue = mod_client.get("/admin/moderation/report/").content.decode()
    assert f"/admin/lives/live/{clip_live.pk}/change/" in queue and "广场舞直播" in queue
    assert "广场舞直播" in mod_client.get("/admin/moderation/report/?of=live").content.decode()
    assert "广场舞直播" not in mod_client.get("/admin/moderation/report/?of=video").content.decode()
    assert mod_client.get(f"/admin/moderation/report/{report.pk}/change/").status_code == 200

    form = {"action": "end_lives", "_selected_action": [report.pk], "confirm": "yes", "reason": "打架"}
    mod_client.post("/admin/moderation/report/", form)
    report.refresh_from_db()
    assert (report.status, report.outcome) == ("resolved", "end_live")
    assert Live.objects.get(pk=clip_live.pk).end_reason == "打架"
    log = mod_client.get("/admin/moderation/moderationaction/").content.decode()
    assert f"/admin/lives/live/{clip_live.pk}/change/" in log


def test_staff_outside_the_moderators_group_cannot_end_lives(users, clip_live, django_user_model):
    staff = django_user_model.objects.create_user(username="intern", is_staff=True)
    client = Client()
    client.force_login(staff)
    assert client.get("/admin/lives/live/").status_code == 403
    client.post(f"/admin/lives/live/{clip_live.pk}/end/", {"confirm": "yes", "reason": "x"})
    assert Live.objects.get(pk=clip_live.pk).status == "live"


def test_a_moderator_without_the_right_does_not_get_the_action(mod_client, moderator, clip_live):
    moderator.groups.first().permissions.remove(Permission.objects.get(codename="end_live"))
    assert 'value="end_lives"' not in mod_client.get("/admin/lives/live/").content.decode()
    mod_client.post(
        "/admin/lives/live/",
        {"action": "end_lives", "_selected_action": [clip_live.pk], "confirm": "yes", "reason": "x"},
    )
    mod_client.post(f"/admin/lives/live/{clip_live.pk}/end/", {"confirm": "yes", "reason": "x"})
    assert Live.objects.get(pk=clip_live.pk).status == "live"
    assert not Report.objects.exists() and not ModerationAction.objects.exists()


def test_lives_are_neither_added_nor_deleted_in_admin(mod_client, clip_live, django_user_model):
    root = django_user_model.objects.create_superuser(username="root", password="x" * 12)
    boss = Client()
    boss.force_login(root)
    assert boss.get("/admin/lives/live/add/").status_code == 403
    assert boss.post(f"/admin/lives/live/{clip_live.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Live.objects.filter(pk=clip_live.pk).exists()


def test_a_moderator_removes_live_comments_and_the_room_hears_it(mod_client, users, clip_live):
    from miniapp.lives.comments import comment_create
    from miniapp.lives.models import Comment, RoomEvent

    rude = comment_create(live=clip_live, user=users["bob"], text="广告：加微信")
    kind = comment_create(live=clip_live, user=users["erin"], text="好看")
    listed = mod_client.get("/admin/lives/comment/").content.decode()
    assert "广告：加微信" in listed and "好看" in listed
    assert 'class="field-likes">0<' in mod_client.get("/admin/lives/live/").content.decode()
    mod_client.post("/admin/lives/comment/", {"action": "remove_comments", "_selected_action": [rude.pk]})
    assert Comment.objects.get(pk=rude.pk).removed and not Comment.objects.get(pk=kind.pk).removed
    assert RoomEvent.objects.filter(kind=RoomEvent.Kind.GONE, comment=rude).exists()  # every screen drops it
    assert mod_client.get(f"/admin/lives/comment/{rude.pk}/delete/").status_code == 403


def test_staff_outside_the_moderators_group_do_not_see_live_comments(users, clip_live, django_user_model):
    staff = django_user_model.objects.create_user(username="intern", is_staff=True)
    client = Client()
    client.force_login(staff)
    assert client.get("/admin/lives/comment/").status_code == 403
