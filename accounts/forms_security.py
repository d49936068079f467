"""Forms of the two-factor pages: the second step of a login, and setting up an authenticator app."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from accounts.models import User
from accounts.models_mfa import Passkey
from accounts.services import client_ip
from accounts.totp import (
    CodeInvalid,
    second_factor_failure,
    second_factor_lock,
    second_factor_success,
    second_factor_verify,
    totp_enable,
)

CODE_WIDGET = forms.TextInput(
    attrs={
        "autocomplete": "one-time-code",
        "inputmode": "text",
        "autocapitalize": "characters",
        "spellcheck": "false",
        "autofocus": True,
        "placeholder": "123456",
    }
)


class SecondFactorForm(forms.Form):
    """A code from the authenticator app, or a recovery code; wrong ones are counted per account
    and per client address (accounts.totp), and a lock is said as a lock."""

    code = forms.CharField(
        label="Authentication code",
        max_length=32,
        widget=CODE_WIDGET,
        help_text="The 6-digit code from your authenticator app, or one of your recovery codes.",
    )

    def __init__(self, *args: Any, user: User, request: HttpRequest, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.request = request
        self.used: str | None = None

    def clean_code(self) -> str:
        code: str = self.cleaned_data["code"]
        ip = client_ip(self.request.META)
        lock = second_factor_lock(user_id=self.user.pk, ip=ip)
        if lock:
            raise ValidationError(lock.message, code="locked")
        self.used = second_factor_verify(user=self.user, code=code)
        if self.used is None:
            lock = second_factor_failure(user_id=self.user.pk, ip=ip)
            if lock:
                raise ValidationError(lock.message, code="locked")
            raise ValidationError(
                "That code is not valid, or was already used. Enter the current code from your app.",
                code="invalid",
            )
        second_factor_success(user_id=self.user.pk)
        return code


class TotpSetupForm(forms.Form):
    """The first code from the app, proving it holds the secret shown on the page."""

    code = forms.CharField(
        label="Code from your app",
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "placeholder": "123456"}
        ),
    )

    def __init__(self, *args: Any, user: User, secret: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.secret = secret
        self.recovery_codes: list[str] = []

    def clean_code(self) -> str:
        code: str = self.cleaned_data["code"]
        try:
            self.recovery_codes = totp_enable(user=self.user, secret=self.secret, code=code)
        except CodeInvalid as refusal:
            raise ValidationError(str(refusal), code="invalid") from None
        return code


class PasskeyRenameForm(forms.ModelForm[Passkey]):
    class Meta:
        model = Passkey
        fields = ["name"]
        labels = {"name": "Name"}

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError("Give the passkey a name.")
        return name
