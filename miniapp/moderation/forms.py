from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ReasonForm(forms.Form):
    """Every moderation decision carries a reason: it goes into the audit log."""

    reason = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        error_messages={"required": _("Give a reason: it is kept in the audit log.")},
    )


class BanForm(ReasonForm):
    until = forms.DateTimeField(
        label=_("Until"),
        required=False,
        help_text=_("Leave empty for a ban until it is lifted."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
    )

    def clean_until(self):
        until = self.cleaned_data["until"]
        if until is not None and until <= timezone.now():
            raise forms.ValidationError(_("The end of a ban must be in the future."))
        return until
