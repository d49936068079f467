import logging
from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import authenticate, password_validation
from django.contrib.auth import forms as auth_forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.template import loader

from accounts.models import TIME_ZONE_CHOICES, User, email_canonical
from accounts.rules import (
    BIO_MESSAGES,
    DISPLAY_NAME_CONTROL,
    DISPLAY_NAME_MESSAGES,
    LOGIN_INVALID,
    TOKEN_NAME_MAX,
    TOKEN_NAME_MESSAGES,
)
from accounts.services import client_ip, login_attempts_clear, login_lock, password_reset_allowed
from core.forms import LongChoiceField
from core.mail import ReadableEmail

logger = logging.getLogger(__name__)


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
        email = email_canonical(self.cleaned_data["email"])
        if User.objects.filter(email=email).exists():
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


class LoginLockMixin:
    """For Django's login forms (ours and the admin's): a lock is said as a lock, with how long it lasts,
    and a successful login forgets the account's failures. The counting itself happens in
    `authenticate()` (django-axes), so both forms share one set of counters."""

    request: HttpRequest | None
    data: Any

    def clean(self) -> dict[str, Any]:
        email = email_canonical(str(self.data.get("username") or ""))
        try:
            cleaned: dict[str, Any] = super().clean()  # type: ignore[misc]
        except ValidationError:
            lock = login_lock(request=self.request, email=email) if self.request else None
            if lock:
                raise ValidationError(lock.message, code="locked") from None
            raise
        user = getattr(self, "user_cache", None)
        if user is not None:  # the password was right (not just a form with a field missing)
            login_attempts_clear(email=user.email)
        return cleaned


class LoginForm(LoginLockMixin, auth_forms.AuthenticationForm):
    """Django's login form, with lockouts per account and per client address."""

    error_messages = {
        **auth_forms.AuthenticationForm.error_messages,
        "invalid_login": LOGIN_INVALID,
    }

    def __init__(self, request: HttpRequest | None = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = "Email"
        # "webauthn": the browser may offer passkeys in this field's autofill (conditional mediation).
        self.fields["username"].widget = forms.EmailInput(
            attrs={"autocomplete": "username webauthn", "autofocus": True}
        )


class AdminLoginForm(LoginLockMixin, AdminAuthenticationForm):
    """The Django admin's login (`admin.site.login_form`): the same counters as ours, the same lock."""


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    """The old password is one more way to present a password: checked through `authenticate()`,
    so wrong guesses count against the account and a locked account cannot change it either."""

    def __init__(self, user: User, *args: Any, request: HttpRequest, **kwargs: Any) -> None:
        super().__init__(user, *args, **kwargs)
        self.request = request

    def clean_old_password(self) -> str:
        old_password: str = self.cleaned_data["old_password"]
        user = authenticate(self.request, username=self.user.email, password=old_password)
        if user is None or user.pk != self.user.pk:
            lock = login_lock(request=self.request, email=self.user.email)
            if lock:
                raise ValidationError(lock.message, code="locked")
            raise ValidationError(self.error_messages["password_incorrect"], code="password_incorrect")
        return old_password


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Looks the account up by the canonical address, and sends at most a few emails per address and
    per client address (the page says "sent" either way)."""

    def get_users(self, email: str) -> Any:
        return (
            user
            for user in User.objects.filter(email=email_canonical(email), is_active=True)
            if user.has_usable_password()
        )

    def save(self, **kwargs: Any) -> None:  # type: ignore[override]
        request: HttpRequest | None = kwargs.get("request")
        ip = client_ip(request.META) if request else None
        if password_reset_allowed(email=self.cleaned_data["email"], ip=ip):
            super().save(**kwargs)

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        message = ReadableEmail(subject, body, from_email, [to_email])
        if html_email_template_name is not None:
            message.attach_alternative(
                loader.render_to_string(html_email_template_name, context), "text/html"
            )
        try:
            message.send()
        except Exception:
            # As Django's own form: a mail server away is logged, the page still says "sent".
            logger.exception("Failed to send password reset email to %s", context["user"].pk)


class SetPasswordForm(auth_forms.SetPasswordForm):  # type: ignore[type-arg]
    """The new password from an emailed link: whoever holds the link owns the address, so the lock on
    the account is lifted (the lock message promises it)."""

    def save(self, commit: bool = True) -> Any:
        user = super().save(commit=commit)
        login_attempts_clear(email=user.email)
        return user


class ProfileForm(forms.ModelForm[User]):
    # ~600 time zones: rendered and copied the fast way (core.forms), or they cost 25 ms a request.
    time_zone = LongChoiceField(label="Time zone", choices=[("UTC", "UTC"), *TIME_ZONE_CHOICES])

    class Meta:
        model = User
        fields = ["display_name", "bio", "time_zone"]
        labels = {"display_name": "Display name", "bio": "Short bio", "time_zone": "Time zone"}
        help_texts = {
            "display_name": "Shown in the navigation and next to your posts.",
            "bio": "A sentence or two, up to 280 characters.",
        }
        widgets = {"bio": forms.Textarea(attrs={"rows": 3, "maxlength": 280})}
        error_messages = {"display_name": DISPLAY_NAME_MESSAGES, "bio": BIO_MESSAGES}

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
            raise ValidationError(DISPLAY_NAME_MESSAGES["blank"], code="blank")
        if any(ord(ch) < 32 for ch in name):
            raise ValidationError(DISPLAY_NAME_CONTROL, code="control_characters")
        return name


class ApiTokenForm(forms.Form):
    """The token's name. The cap on active tokens is the service's (`api_token_create`), shared
    with the API and enforced under a lock; the view shows its refusal as this form's error."""

    name = forms.CharField(
        label="Token name",
        max_length=TOKEN_NAME_MAX,
        error_messages=TOKEN_NAME_MESSAGES,
        help_text="Where you will use it, e.g. “iPhone” or “CI”.",
        widget=forms.TextInput(attrs={"placeholder": "My laptop", "autocomplete": "off"}),
    )

    # Not sent (a client that predates teams, a script posting the form): the personal team, as the API.
    team = forms.TypedChoiceField(
        label="Team",
        coerce=int,
        required=False,
        empty_value=None,
        help_text="The token sees and changes this team's data only.",
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        # The user's teams through their memberships (a reverse relation): accounts imports no teams code.
        memberships = user.memberships.select_related("team").order_by("-team__personal", "team__name")
        team_field = self.fields["team"]
        assert isinstance(team_field, forms.TypedChoiceField)
        team_field.choices = [(m.team_id, m.team.name) for m in memberships]
        if team_field.choices:
            team_field.initial = team_field.choices[0][0]

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError(TOKEN_NAME_MESSAGES["blank"], code="blank")
        return name


class ReauthForm(forms.Form):
    """The password once more, for sudo mode: checked through `authenticate()`, so wrong guesses count
    against the same lockout as logins."""

    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )

    def __init__(self, *args: Any, user: User, request: HttpRequest, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.request = request

    def clean_password(self) -> str:
        password: str = self.cleaned_data["password"]
        user = authenticate(self.request, username=self.user.email, password=password)
        if user is None or user.pk != self.user.pk:
            lock = login_lock(request=self.request, email=self.user.email)
            if lock:
                raise ValidationError(lock.message, code="locked")
            raise ValidationError("That is not your password.", code="password_incorrect")
        return password


class EmailChangeForm(forms.Form):
    """The new address: the account's only once the emailed link is opened (accounts.verification)."""

    email = forms.EmailField(
        label="New email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
        help_text="We email a link there; your address changes when you open it.",
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_email(self) -> str:
        email = email_canonical(self.cleaned_data["email"])
        if email == self.user.email:
            raise ValidationError("That is already your address.")
        if User.objects.filter(email=email).exists():
            raise ValidationError("Another account uses this address.")
        return email


class AccountDeleteForm(forms.Form):
    """Typing the address is the last "are you sure": nothing is deleted by a stray click."""

    confirm_email = forms.CharField(
        label="Type your email address to confirm",
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["confirm_email"].widget.attrs["placeholder"] = user.email

    def clean_confirm_email(self) -> str:
        typed: str = self.cleaned_data["confirm_email"]
        if email_canonical(typed) != self.user.email:
            raise ValidationError("That is not your email address: type it exactly as shown.")
        return typed
