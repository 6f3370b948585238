from django.utils.functional import SimpleLazyObject

from miniapp.engagement.selectors import groups_position, unread_total


def tab_unread(request) -> dict:
    """For the tab bar's badge: `tab_unread`, the signed-in user's unread group posts (100:
    "99+"), and `tab_position`, the newest post of their groups at that moment, which the count
    includes: the page counts only posts after it, so a post the socket replays is not counted
    twice. Both are read only if a template shows them, and only then is the user looked up:
    a page that shows neither (503.html, with the database away) touches no table."""

    def signed_in_id() -> int | None:
        user = getattr(request, "user", None)
        return user.pk if user is not None and user.is_authenticated else None

    def unread() -> int:
        user_id = signed_in_id()
        return unread_total(user_id=user_id) if user_id else 0

    def position() -> int:
        user_id = signed_in_id()
        return groups_position(user_id=user_id) if user_id else 0

    return {"tab_unread": SimpleLazyObject(unread), "tab_position": SimpleLazyObject(position)}
