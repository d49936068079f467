from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from accounts.models import User
from accounts.services import client_ip, login_failure_record, login_success_record, login_throttle_check
from core.forms import LongChoiceField


class SignupForm(forms.ModelForm[User]):
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters; not entirely numeric or too common.",
    )

    class Meta:
        model = User
        fields = ["display_name", "email"]
        widgets = {
            "email": forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
            "display_name": forms.TextInput(attrs={"autocomplete": "name"}),
        }
        labels = {"display_name": "Your name"}

    def clean_email(self) -> str:
        email: str = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise ValidationError("An account with this email already exists. Log in instead?")
        return email

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        password = cleaned.get("password")
        if password:
            # Validated against the would-be user, so a password like the email address is refused.
            candidate = User(email=cleaned.get("email", ""), display_name=cleaned.get("display_name", ""))
            try:
                password_validation.validate_password(password, candidate)
            except ValidationError as error:
                self.add_error("password", error)
        return cleaned

    def save(self, commit: bool = True) -> User:
        user = super().save(commit=False)
        user.set_password(self.cleaned_data["password"])
        if commit:
            user.save()
        return user


class LoginForm(AuthenticationForm):
    """Django's login form, throttled per account and per client address."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That email and password do not match an account.",
    }

    def __init__(self, request: HttpRequest | None = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = "Email"
        self.fields["username"].widget = forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True})

    def clean(self) -> dict[str, Any]:
        email = (self.data.get("username") or "").strip().lower()
        ip = client_ip(self.request.META) if self.request else None
        verdict = login_throttle_check(email=email, ip=ip)
        if not verdict.allowed:
            if verdict.locked:
                minutes = max(1, round(verdict.retry_after / 60))
                raise ValidationError(
                    f"Too many failed attempts. Logging in is locked for about {minutes} "
                    f"minute{'s' if minutes != 1 else ''}, or reset your password.",
                    code="locked",
                )
            raise ValidationError(
                f"Too many failed attempts. Wait {verdict.retry_after} seconds and try again.",
                code="throttled",
            )
        try:
            cleaned = super().clean()
        except ValidationError:
            login_failure_record(email=email, ip=ip)
            raise
        login_success_record(email=email)
        return cleaned


class ProfileForm(forms.ModelForm[User]):
    # ~600 time zones: rendered and copied the fast way (core.forms), or they cost 25 ms a request.
    time_zone = LongChoiceField(label="Time zone", choices=User._meta.get_field("time_zone").choices or [])

    class Meta:
        model = User
        fields = ["display_name", "bio", "time_zone"]
        labels = {"display_name": "Display name", "bio": "Short bio", "time_zone": "Time zone"}
        help_texts = {
            "display_name": "Shown in the navigation and next to your posts.",
            "bio": "A sentence or two, up to 280 characters.",
        }
        widgets = {"bio": forms.Textarea(attrs={"rows": 3, "maxlength": 280})}

    def save(self, commit: bool = True) -> User:
        """Write the profile's own columns only: a smaller UPDATE, and a password (or anything else)
        changed by another request since this one loaded the user is never written back."""
        user = super().save(commit=False)
        if commit:
            user.save(update_fields=self.Meta.fields)
        return user

    def clean_display_name(self) -> str:
        name: str = self.cleaned_data["display_name"].strip()
        if not name:
            raise ValidationError("Enter a display name.")
        if any(ord(ch) < 32 for ch in name):
            raise ValidationError("The name cannot contain control characters.")
        return name


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label="Token name",
        max_length=60,
        help_text="Where you will use it, e.g. “iPhone” or “CI”.",
        widget=forms.TextInput(attrs={"placeholder": "My laptop", "autocomplete": "off"}),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError("Give the token a name.")
        return name

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.user.api_tokens.active().count() >= MAX_ACTIVE_TOKENS:
            raise ValidationError(
                f"You can have at most {MAX_ACTIVE_TOKENS} active tokens. Revoke one first."
            )
        return cleaned


MAX_ACTIVE_TOKENS = 20
