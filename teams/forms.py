from typing import Any

from django import forms

from accounts.forms import SignupForm
from accounts.models import User, email_canonical
from teams.models import Role, Team


class TeamForm(forms.ModelForm[Team]):
    class Meta:
        model = Team
        fields = ["name"]
        labels = {"name": "Team name"}
        widgets = {"name": forms.TextInput(attrs={"autocomplete": "organization", "maxlength": 80})}

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the team a name.")
        return name


class TeamDeleteForm(forms.Form):
    confirm = forms.CharField(label="Type the team's name to confirm", max_length=80)

    def __init__(self, *args: Any, team: Team, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.team = team

    def clean_confirm(self) -> str:
        value: str = self.cleaned_data["confirm"].strip()
        if value != self.team.name:
            raise forms.ValidationError(f"Type “{self.team.name}” exactly to delete the team.")
        return value


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email address", widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    role = forms.ChoiceField(label="Role", choices=Role.choices, initial=Role.MEMBER)

    def clean_email(self) -> str:
        return email_canonical(self.cleaned_data["email"])


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Role.choices)


class TransferForm(forms.Form):
    user_id = forms.TypedChoiceField(label="New owner", coerce=int, choices=())

    def __init__(self, *args: Any, candidates: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user_id"].choices = candidates  # type: ignore[attr-defined]


class InvitationSignupForm(SignupForm):
    """Sign-up from an invitation link: the address is the invited one (the link proves it), whatever
    the `signups` flag says."""

    def __init__(self, *args: Any, email: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.invited_email = email
        self.fields["email"].initial = email
        self.fields["email"].disabled = True
        self.fields["email"].help_text = "The address the invitation was sent to."
        self.fields["display_name"].widget.attrs["autofocus"] = True
        self.fields["email"].widget.attrs.pop("autofocus", None)

    def clean_email(self) -> str:
        email = email_canonical(self.invited_email)
        if User.objects.filter(email=email).exists():
            raise forms.ValidationError("An account with this email already exists. Log in to accept.")
        return email
