"""What sockets hear about a video itself (catalogued in `realtime.schema`)."""

from miniapp.videos.models import Video


def video_gone_event(video: Video) -> dict:
    """The video was taken down (hidden or removed): every open page drops it."""
    return {"type": "video_gone", "video": video.pk}
