from django import forms
from django.utils.translation import gettext_lazy as _

from miniapp.mockwx.models import Identity


class ConsentForm(forms.Form):
    """The persona page: pick an identity or type a new nickname, then allow or deny."""

    ALLOW = "allow"
    DENY = "deny"

    decision = forms.ChoiceField(choices=[(ALLOW, ALLOW), (DENY, DENY)])
    identity = forms.ModelChoiceField(queryset=Identity.objects.all(), required=False)
    nickname = forms.CharField(max_length=32, required=False, strip=True)

    def clean_nickname(self):
        nickname = self.cleaned_data["nickname"]
        if nickname and not nickname.isprintable():
            raise forms.ValidationError(_("A nickname cannot contain control characters."))
        return nickname

    def clean(self):
        data = super().clean()
        if data.get("decision") == self.ALLOW and not (data.get("nickname") or data.get("identity")):
            raise forms.ValidationError(_("Pick an identity or type a new nickname."))
        return data

    @property
    def allowed(self) -> bool:
        return self.cleaned_data["decision"] == self.ALLOW
