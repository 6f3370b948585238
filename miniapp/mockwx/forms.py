from django import forms
from django.utils.translation import gettext_lazy as _

from miniapp.lib.text import normalized
from miniapp.mockwx.models import Identity


class NicknameField(forms.CharField):
    """A nickname as the `Identity` model allows it (lib.text's `validate_nickname`, at most 32
    characters), taken as sent: nothing stripped or cut, only brought to Unicode's composed
    form (NFC), the one it is stored in. The persona page's nickname, `login_hint` and the
    admin all go through it, so a hint can make only an identity one could type."""

    def __init__(self, **kwargs):
        self.model_field = Identity._meta.get_field("nickname")
        super().__init__(max_length=self.model_field.max_length, strip=False, **kwargs)

    def to_python(self, value):
        return normalized(super().to_python(value))

    def validate(self, value):
        super().validate(value)
        if value:
            self.model_field.run_validators(value)


class IdentityAdminForm(forms.ModelForm):
    nickname = NicknameField()

    class Meta:
        model = Identity
        fields = ["nickname", "friends"]


class ConsentForm(forms.Form):
    """The persona page: pick an identity or type a new nickname, then allow or deny."""

    ALLOW = "allow"
    DENY = "deny"

    decision = forms.ChoiceField(choices=[(ALLOW, ALLOW), (DENY, DENY)])
    identity = forms.ModelChoiceField(queryset=Identity.objects.all(), required=False)
    nickname = NicknameField(required=False)

    def clean(self):
        data = super().clean()
        if data.get("decision") == self.ALLOW and not (data.get("nickname") or data.get("identity")):
            raise forms.ValidationError(_("Pick an identity or type a new nickname."))
        return data

    @property
    def allowed(self) -> bool:
        return self.cleaned_data["decision"] == self.ALLOW


class HintForm(forms.Form):
    """`login_hint`: the nickname to sign in as (with prompt=none) or to fill in."""

    login_hint = NicknameField(required=False)
