"""A moderator ends a live (`live_take_down`): for everyone, with the reason, no replay, in the audit log."""

import pytest
from django.core.exceptions import PermissionDenied

from miniapp.lives.models import Live
from miniapp.lives.services import live_create, live_end
from miniapp.moderation import services
from miniapp.moderation.models import ModerationAction, Report

pytestmark = pytest.mark.django_db


def test_it_ends_a_clip_live_with_the_reason_and_no_replay(clip_live, moderator, users):
    assert services.live_take_down(live=clip_live, moderator=moderator, reason="直播内容违规") is True
    clip_live.refresh_from_db()
    assert (clip_live.status, clip_live.end_reason, clip_live.ended is not None) == ("ended", "直播内容违规", True)
    assert clip_live.replay is None  # the host's own end would have published the clip as its replay
    action = ModerationAction.objects.get()
    assert (action.kind, action.live, action.user, action.moderator) == (
        "end_live",
        clip_live,
        users["carol"],
        moderator,
    )
    assert (action.subject, action.reason, action.automatic, action.video) == (
        "广场舞直播",
        "直播内容违规",
        False,
        None,
    )


def test_it_ends_a_camera_live_without_making_its_recording_a_replay(camera_live, moderator):
    assert camera_live.keep_replay is True
    services.live_take_down(live=camera_live, moderator=moderator, reason="违规")
    camera_live.refresh_from_db()
    assert camera_live.status == "ended"
    assert (camera_live.replay_pending, camera_live.replay) == (False, None)


def test_it_ends_an_announced_live_too(users, moderator):
    announced = live_create(host=users["bob"], title="明天直播")
    assert services.live_take_down(live=announced, moderator=moderator, reason="标题违规") is True
    announced.refresh_from_db()
    assert (announced.status, announced.end_reason) == ("ended", "标题违规")


def test_a_live_that_has_ended_is_left_as_it_was(clip_live, moderator):
    live_end(live=clip_live, reason="")
    assert services.live_take_down(live=clip_live, moderator=moderator, reason="too late") is False
    clip_live.refresh_from_db()
    assert clip_live.end_reason == "" and clip_live.replay_id is not None  # the host's end, as it was
    assert not ModerationAction.objects.exists()


def test_taking_it_down_twice_records_it_once(clip_live, moderator):
    services.live_take_down(live=clip_live, moderator=moderator, reason="first")
    assert services.live_take_down(live=clip_live, moderator=moderator, reason="second") is False
    assert Live.objects.get(pk=clip_live.pk).end_reason == "first"
    assert ModerationAction.objects.count() == 1


def test_the_live_shows_the_first_200_characters_and_the_log_keeps_the_whole_reason(clip_live, moderator):
    reason = "长" * 300
    services.live_take_down(live=clip_live, moderator=moderator, reason=reason)
    assert Live.objects.get(pk=clip_live.pk).end_reason == reason[:200]
    assert ModerationAction.objects.get().reason == reason


def test_it_closes_the_lives_open_reports(clip_live, moderator, users):
    report, _ = services.report_create(reporter=users["alice"], live=clip_live, reason="sexual")
    services.live_take_down(live=clip_live, moderator=moderator, reason="色情")
    report.refresh_from_db()
    assert (report.status, report.outcome, report.resolved_by) == ("resolved", "end_live", moderator)


def test_the_automatic_rules_do_not_end_lives(clip_live):
    with pytest.raises(PermissionDenied):
        services.live_take_down(live=clip_live, moderator=None, reason="reported")
    assert Live.objects.get(pk=clip_live.pk).status == "live"


def test_viewers_players_see_the_end_once_it_commits(
    clip_live, moderator, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    folder = tmp_path / clip_live.folder
    folder.mkdir(parents=True)
    (folder / "index.m3u8").write_text("#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\nseg-0.ts\n")
    with django_capture_on_commit_callbacks(execute=True):
        services.live_take_down(live=clip_live, moderator=moderator, reason="违规")
    assert (folder / "index.m3u8").read_text().endswith("#EXT-X-ENDLIST\n")


def test_reports_of_a_live_can_be_dismissed(clip_live, moderator, users):
    services.report_create(reporter=users["alice"], live=clip_live, reason="spam")
    assert services.reports_dismiss(reports=Report.objects.all(), moderator=moderator, reason="不是广告") == 1
    action = ModerationAction.objects.get()
    assert (action.kind, action.live, action.user) == ("dismiss", clip_live, users["carol"])
    assert Live.objects.get(pk=clip_live.pk).status == "live"
