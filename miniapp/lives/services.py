"""Going live and ending: the host's and the moderators' writes to a live."""

from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from miniapp.accounts.models import User
from miniapp.accounts.selectors import member_ids_by_group
from miniapp.lives import hls, topics
from miniapp.lives.models import Live
from miniapp.realtime.events import send_event_on_commit
from miniapp.videos.models import Video

# A live may be announced this far ahead at most.
SCHEDULE_AHEAD = timedelta(days=30)
# Why a video cannot be a live's source (the API says it too, for a video it cannot find).
CLIP_REFUSED = gettext_lazy("Only one of your own published videos can be played as a live.")


def live_create(
    *, host: User, title: str, clip: Video | None = None, starts_at: datetime | None = None, keep_replay: bool = True
) -> Live:
    """Announce a live (scheduled): its source is `clip` (one of the host's published videos,
    played as live) or else the host's camera. ValidationError with a message for the host."""
    if clip is not None and (clip.author_id != host.pk or not clip.is_published):
        raise ValidationError({"video": str(CLIP_REFUSED)})
    now = timezone.now()
    if starts_at is not None and not now - timedelta(minutes=5) <= starts_at <= now + SCHEDULE_AHEAD:
        raise ValidationError({"starts_at": _("A live can be announced for a time within the next 30 days.")})
    live = Live(
        host=host,
        title=title.strip(),
        source=Live.Source.CLIP if clip is not None else Live.Source.CAMERA,
        clip=clip,
        starts_at=starts_at,
        keep_replay=keep_replay,
    )
    live.full_clean()
    live.save()
    return live


def live_start(*, live: Live) -> Live:
    """The host goes on air (a live already on air stays so; an ended one cannot start again).
    A clip live's source starts on a worker within a tick (`lives.runner`)."""
    with transaction.atomic():
        live = Live.objects.select_for_update().get(pk=live.pk)
        if live.status == Live.Status.ENDED:
            raise ValidationError(_("This live has ended. Start a new one."))
        if live.status == Live.Status.SCHEDULED:
            if live.source == Live.Source.CLIP and (live.clip is None or not live.clip.is_published):
                raise ValidationError(_("The video this live plays is no longer available."))
            live.status, live.started = Live.Status.LIVE, timezone.now()
            live.save(update_fields=["status", "started"])
            tell_groups(live)
            topics.tell_on_commit(live.pk, {"status": Live.Status.LIVE})
    return live


def live_end(*, live: Live, reason: str = "", replay: bool = True) -> Live:
    """The live is over. Its source stops within a tick (the runner playing a clip, the socket
    sending the camera) and its playlist gets ENDLIST; with no source left, it is closed here.

    The replay (unless `replay` is False: a moderator's end, or the host's choice at going live)
    is the clip for a clip live; a camera live's recordings become one (`lives.replays`, on a
    runner's tick, once the socket has written them out)."""
    with transaction.atomic():
        live = Live.objects.select_for_update(of=("self",)).select_related("clip").get(pk=live.pk)
        if live.status == Live.Status.ENDED:
            return live
        was_live = live.status == Live.Status.LIVE
        live.status, live.ended, live.end_reason = Live.Status.ENDED, timezone.now(), reason[:200]
        replay = replay and was_live and live.keep_replay
        if replay and live.source == Live.Source.CLIP and live.clip is not None and live.clip.is_published:
            live.replay = live.clip
        live.replay_pending = replay and live.source == Live.Source.CAMERA
        live.save(update_fields=["status", "ended", "end_reason", "replay", "replay_pending"])
        tell_groups(live)
        topics.tell_on_commit(live.pk, {"status": Live.Status.ENDED})
        silent = live.runner_beat is None or live.runner_beat < timezone.now() - live.source_timeout
    if silent:
        transaction.on_commit(lambda: hls.end_playlist(Path(settings.MEDIA_ROOT) / live.folder), robust=True)
    return live


def live_state_event(live: Live) -> dict:
    """A live announced in groups went on air or ended: its cards there show it."""
    return {"type": "live_state", "live": {"id": live.pk, "status": live.status}}


def tell_groups(live: Live) -> None:
    """Once committed, the members of the groups it was announced in hear its new state."""
    group_ids = list(live.announced_in.values_list("pk", flat=True))
    if group_ids:
        members = sorted({member for ids in member_ids_by_group(group_ids).values() for member in ids})
        send_event_on_commit(recipients=members, event=live_state_event(live))
