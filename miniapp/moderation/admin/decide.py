"""One page for every moderation decision in admin: confirm what, give a reason, apply.

Used by changelist actions (Django's intermediate-page pattern, as `delete_selected`
does) and by the buttons on a video's or user's page, so both go through the same
form and the same services.
"""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _


def decide(
    model_admin,
    request,
    *,
    objects: list,
    title: str,
    question: str,
    confirm_label: str,
    form_class,
    apply: Callable[[object, dict], bool],
    unchanged: Callable[[object], str],
    cancel_url: str,
    action: str = "",
):
    """Show the form; once it is sent and valid, `apply` each object and say what happened.

    Returns None when done (a changelist action then goes back to the list), or the page.
    """
    form = form_class(request.POST if request.POST.get("confirm") else None)
    if form.is_bound and form.is_valid():
        changed = 0
        for obj in objects:
            try:
                done = apply(obj, form.cleaned_data)
            except PermissionDenied as refused:
                model_admin.message_user(request, str(refused), messages.ERROR)
                continue
            if done:
                changed += 1
            else:
                model_admin.message_user(request, unchanged(obj), messages.WARNING)
        if changed:
            model_admin.message_user(request, _("Done: %(count)d changed.") % {"count": changed}, messages.SUCCESS)
        return None
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": title,
        "question": question,
        "confirm_label": confirm_label,
        "items": objects,
        "form": form,
        "action": action,
        "selected": [obj.pk for obj in objects] if action else [],
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
        "cancel_url": cancel_url,
    }
    return TemplateResponse(request, "moderation/admin/decide.html", context)
