from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from miniapp.videos.models import Video


def videos_visible_to(user) -> QuerySet[Video]:
    """Published videos; staff see every video, whatever its status."""
    videos = Video.objects.all()
    if not (user.is_authenticated and user.is_staff):
        videos = videos.filter(status=Video.Status.PUBLISHED)
    return videos


def video_feed(*, viewer) -> QuerySet[Video]:
    """The videos `viewer` may watch, with their authors, newest first."""
    return videos_visible_to(viewer).select_related("author").order_by("-created", "-id")


def video_published(video_id: int) -> Video | None:
    """The video if it is published: what may be liked, shared, reported or viewed, staff or not."""
    return Video.objects.filter(pk=video_id, status=Video.Status.PUBLISHED).first()


def video_published_or_404(video_id: int) -> Video:
    """`video_published`, or the 404 of `video_or_404`."""
    return video_or_404(video_published(video_id))


def video_or_404(video: Video | None) -> Video:
    """`video`, found by one of the lookups here; None (no such video, or not one the
    caller may have) is the one 404 every API gives for a video, whatever the reason."""
    if video is None:
        raise Http404(_("This video does not exist or is no longer available."))
    return video


def video_get_for_viewer(*, video_id: int, viewer) -> Video | None:
    return video_feed(viewer=viewer).filter(pk=video_id).first()


def videos_by_author(*, author, viewer) -> QuerySet[Video]:
    videos = Video.objects.filter(author=author).order_by("-created", "-id")
    if viewer != author and not viewer.is_staff:
        videos = videos.filter(status=Video.Status.PUBLISHED)
    return videos


def media_video_status(path: str) -> str | None:
    """The status of the video a media file belongs to (None: not a video's file).

    A video's files share its folder: videos/<folder>/{video.mp4,poster.jpg,card.jpg}.
    """
    folder, _, _ = path.rpartition("/")
    if not folder.startswith("videos/"):
        return None
    return Video.objects.filter(file=f"{folder}/video.mp4").values_list("status", flat=True).first()
