"""The one exception a live's media pipeline raises about its source, with a message for the host."""

from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

# Fill in the numbers only when the message is shown, so it comes out in the viewer's language.
_interpolate = lazy(lambda message, values: message % values, str)

_MESSAGES = {
    "not_recording": _("This is not a camera recording we can read. Please go live from the app's camera page."),
    "corrupt": _("Part of the live video was lost or damaged on the way. Please start the camera again."),
    "restarted": _("The camera started a new recording. Please start the live video again."),
    "too_fast": _("The live video is arriving faster than it is recorded. Please start the camera again."),
    "ended": _("This live video has ended."),
    "no_video": _("This recording has no picture. Please allow the camera and try again."),
    "encoding": _("This camera records in a format we can't play (%(what)s). Please use another browser."),
    "audio_encoding": _("This camera records sound in a format we can't play (%(what)s). Please use another browser."),
    "resolution": _("The camera records %(width)d×%(height)d pixels; at most %(long)d×%(short)d can go live."),
    "frame_rate": _("The camera records %(fps)d frames a second; at most %(max)d can go live."),
    "too_much_audio": _(
        "The camera's sound is more than we can process: at most %(channels)d channels at %(khz)d kHz."
    ),
    "failed": _("The live video could not be processed."),
}


class LiveSourceError(Exception):
    """A live's source that can't be turned into HLS: the caller answers 400 with `message`.

    `code` is one of the keys of _MESSAGES: "not_recording" (the first bytes are not a WebM or
    MP4 recording), "corrupt" (a chunk that does not continue the recording: garbage, a cut-off
    chunk, the rest of another file), "restarted" (a chunk that starts a new recording: the
    caller can finish this session and feed the chunk to a new one), "too_fast" (more media than
    real time), "ended" (fed after finish()), "failed" (FFmpeg gave up on the data), or one of
    the limits' codes (`videos.limits.OverLimit`).
    """

    def __init__(self, code: str, **values):
        message = _MESSAGES[code]
        message = _interpolate(message, values) if values else message
        super().__init__(message)
        self.message = message
        self.code = code
        self.values = values
