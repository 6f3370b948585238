"""Where Django ends a session, its sockets hear of it (`events.send_signout_on_commit`).

Two of Django's own hooks, because the sessions end in Django's code, on paths that are not
ours (admin's and allauth's views, `manage.py changepassword`), and these hooks are how
Django tells: `user_logged_out`, sent by every `logout()`, and the password validators'
`password_changed`, called by `AbstractBaseUser.save()` after every password change, on
whichever path. Our own sign-outs (a ban, a deleted account) call the service directly
(`accounts.services.user_sessions_end`, `moderation.services.user_delete`).
"""

from django.utils.translation import gettext as _

from miniapp.realtime.events import send_signout_on_commit


def close_sockets_on_logout(sender, request, user, **kwargs) -> None:
    """`user_logged_out`: that session's sockets close; the user's other devices stay."""
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if user is not None and session_key:
        send_signout_on_commit(user_id=user.pk, session_key=session_key)


class PasswordChangeSignsOut:
    """Not a rule for passwords (it accepts every one): Django calls each validator's
    `password_changed` once a new password is saved. A password change ends every other
    session of the user (Django's session auth hash), so their sockets close; the session
    that changed it goes on under a new key, and its pages open their socket again."""

    def validate(self, password, user=None) -> None:
        pass

    def password_changed(self, password, user=None) -> None:
        if user is not None and user.pk is not None:
            send_signout_on_commit(user_id=user.pk)

    def get_help_text(self) -> str:
        return _("Changing your password signs you out everywhere else.")
