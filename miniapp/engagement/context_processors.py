from django.utils.functional import SimpleLazyObject

from miniapp.engagement.selectors import unread_total


def tab_unread(request) -> dict:
    """`tab_unread`: the signed-in user's unread group posts for the tab bar's badge (100: "99+"),
    read only if a template shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"tab_unread": 0}
    return {"tab_unread": SimpleLazyObject(lambda: unread_total(user_id=user.pk))}
