"""One page for every moderation decision in admin: confirm what, give a reason, take it.

Used by changelist actions (Django's intermediate-page pattern, as `delete_selected`
does) and by the buttons on a video's, user's or live's page: both build a `Decision` and take it
through `decisions.decision_take`, whichever admin they are on (the report queue hides
videos as the video admin does).
"""

from dataclasses import dataclass, replace

from django import forms
from django.contrib import messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from miniapp.moderation.decisions import Decision, decision_refusal, decision_take
from miniapp.moderation.forms import BanForm, ReasonForm
from miniapp.moderation.models import ModerationAction

Kind = ModerationAction.Kind


@dataclass(frozen=True)
class Page:
    """What a decision's page says, and the form it asks."""

    title: str
    question: str
    confirm_label: str
    form_class: type[forms.Form] = ReasonForm


PAGES = {
    Kind.HIDE: Page(
        gettext_lazy("Hide videos"),
        gettext_lazy("Hide: they leave every feed at once, until restored."),
        gettext_lazy("Hide videos"),
    ),
    Kind.RESTORE: Page(
        gettext_lazy("Restore videos"),
        gettext_lazy("Restore: they are published again."),
        gettext_lazy("Restore videos"),
    ),
    Kind.REMOVE: Page(
        gettext_lazy("Remove videos"),
        gettext_lazy("Remove: they leave every feed at once, for breaking the rules."),
        gettext_lazy("Remove videos"),
    ),
    Kind.DISMISS: Page(
        gettext_lazy("Dismiss reports"),
        gettext_lazy("The videos stay up; the reports are closed."),
        gettext_lazy("Dismiss"),
    ),
    Kind.BAN: Page(
        gettext_lazy("Ban users"),
        gettext_lazy("Banned users can still watch, but cannot like, share, upload or report."),
        gettext_lazy("Ban"),
        BanForm,
    ),
    Kind.UNBAN: Page(
        gettext_lazy("Lift bans"),
        gettext_lazy("They can like, share, upload and report again."),
        gettext_lazy("Lift ban"),
    ),
    Kind.END_LIVE: Page(
        gettext_lazy("End lives"),
        gettext_lazy(
            "End: viewers see the live end at once, with your reason as why; no replay is published, "
            "and the live's open reports are closed."
        ),
        gettext_lazy("End lives"),
    ),
}


def decide(model_admin, request, decision: Decision, *, cancel_url: str, selected=None):
    """Show `decision`'s page; once its form is sent and valid, take it and say what happened.

    `selected`: for a changelist action, the rows it was given (the page posts them back to
    the action, which may act on others: the report queue's rows name the videos it hides);
    None for a button. Returns None when done (an action then goes back to the list), or the page.
    """
    page = PAGES[decision.kind]
    form = page.form_class(request.POST if request.POST.get("confirm") else None)
    if form.is_bound and form.is_valid():
        decision = replace(decision, reason=form.cleaned_data["reason"], until=form.cleaned_data.get("until"))
        outcome = decision_take(decision=decision)
        for why in outcome.refused:
            model_admin.message_user(request, why, messages.ERROR)
        for why in outcome.unchanged:
            model_admin.message_user(request, why, messages.WARNING)
        if outcome.changed:
            done = _("Done: %(count)d changed.") % {"count": outcome.changed}
            model_admin.message_user(request, done, messages.SUCCESS)
        return None
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": page.title,
        "page": page,
        "items": [(target, decision_refusal(decision, target)) for target in decision.targets],
        "form": form,
        "action": request.POST.get("action", "") if selected is not None else "",
        "selected": [row.pk for row in selected] if selected is not None else [],
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
        "cancel_url": cancel_url,
    }
    return TemplateResponse(request, "moderation/admin/decide.html", context)
