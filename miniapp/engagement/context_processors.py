from django.utils.functional import SimpleLazyObject

from miniapp.engagement.selectors import groups_position, unread_total


def tab_unread(request) -> dict:
    """For the tab bar's badge, read only if a template shows it: `tab_unread`, the signed-in
    user's unread group posts (100: "99+"), and `tab_position`, the newest post of their
    groups at that moment, which the count includes: the page counts only posts after it,
    so a post the socket replays is not counted twice."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"tab_unread": 0, "tab_position": 0}
    return {
        "tab_unread": SimpleLazyObject(lambda: unread_total(user_id=user.pk)),
        "tab_position": SimpleLazyObject(lambda: groups_position(user_id=user.pk)),
    }
