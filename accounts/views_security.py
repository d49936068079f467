"""The security page (`/accounts/security/`): the authenticator app, recovery codes, passkeys; and the
second step of a login. The passkey ceremonies themselves are JSON endpoints (accounts/passkeys_api.py)."""

import time

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import mark_safe

from accounts.forms_security import PasskeyRenameForm, SecondFactorForm, TotpSetupForm
from accounts.models_mfa import Passkey, TotpDevice
from accounts.passkeys import passkey_remove, passkeys_usable_here, relying_party
from accounts.second_step import pending_finish, pending_state
from accounts.sudo import sudo_required
from accounts.totp import (
    recovery_codes_generate,
    recovery_codes_left,
    totp_disable,
    totp_qr_svg,
    totp_secret_new,
    totp_uri,
)
from core.operations import operation
from core.types import AuthedHttpRequest

SETUP_SECRET_KEY = "accounts:totp-setup-secret"
NEW_CODES_KEY = "accounts:new-recovery-codes"
NEW_CODES_SECONDS = 600  # the fresh codes can be shown and downloaded for ten minutes, then never


def security_context(request: AuthedHttpRequest) -> dict[str, object]:
    device = TotpDevice.objects.filter(user=request.user).first()
    return {
        "totp": device,
        "recovery_left": recovery_codes_left(user=request.user) if device else 0,
        "passkeys": list(request.user.passkeys.all()),
        "passkeys_here": passkeys_usable_here(request),
        "passkey_origin": relying_party().origin,
    }


@operation(
    "Turn on two-factor (authenticator app)",
    why="A form on our own page: scan the QR code, type the first code; works without JavaScript.",
    methods=["GET", "POST"],
)
@sudo_required
def totp_setup(request: AuthedHttpRequest) -> HttpResponse:
    if TotpDevice.objects.filter(user=request.user).exists():
        messages.info(request, "Two-factor is already on.")
        return redirect("accounts:security")
    # The secret waits in the session until a first code proves the app holds it.
    secret = request.session.get(SETUP_SECRET_KEY)
    if not isinstance(secret, str):
        secret = request.session[SETUP_SECRET_KEY] = totp_secret_new()
    form = TotpSetupForm(request.POST or None, user=request.user, secret=secret)
    if request.method == "POST" and form.is_valid():
        del request.session[SETUP_SECRET_KEY]
        _codes_keep(request, form.recovery_codes)
        messages.success(request, "Two-factor is on. Save your recovery codes now.")
        return redirect("accounts:recovery_codes")
    uri = totp_uri(secret=secret, email=request.user.email)
    context = {
        "form": form,
        "qr_svg": mark_safe(totp_qr_svg(uri)),  # noqa: S308 - segno's own SVG, no user input in markup
        "secret_groups": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "otpauth_uri": uri,
    }
    return render(request, "accounts/totp_setup.html", context)


def _codes_keep(request: HttpRequest, codes: list[str]) -> None:
    request.session[NEW_CODES_KEY] = {"codes": codes, "until": int(time.time()) + NEW_CODES_SECONDS}


def _codes_fresh(request: HttpRequest) -> list[str] | None:
    stored = request.session.get(NEW_CODES_KEY)
    if isinstance(stored, dict) and stored.get("until", 0) > time.time():
        return list(stored.get("codes", []))
    request.session.pop(NEW_CODES_KEY, None)
    return None


@operation(
    "Your new recovery codes",
    why="Shown once, right after they are made; 'I have saved them' forgets them for good.",
    methods=["GET", "POST"],
)
def recovery_codes(request: AuthedHttpRequest) -> HttpResponse:
    if request.method == "POST":
        request.session.pop(NEW_CODES_KEY, None)
        return redirect("accounts:security")
    codes = _codes_fresh(request)
    if codes is None:
        messages.info(request, "Recovery codes are shown only once. Make new ones if you lost them.")
        return redirect("accounts:security")
    return render(request, "accounts/recovery_codes.html", {"codes": codes})


@operation(
    "Download your new recovery codes", why="A .txt file of the codes just shown, while they are shown."
)
def recovery_codes_download(request: AuthedHttpRequest) -> HttpResponse:
    codes = _codes_fresh(request)
    if codes is None:
        messages.info(request, "Recovery codes are shown only once. Make new ones if you lost them.")
        return redirect("accounts:security")
    site = getattr(settings, "SITE_NAME", "Twofold")
    body = (
        f"{site} recovery codes for {request.user.email}\n"
        "Each code works once, in place of a code from your authenticator app.\n\n" + "\n".join(codes) + "\n"
    )
    response = HttpResponse(body, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="twofold-recovery-codes.txt"'
    response["Cache-Control"] = "no-store"
    return response


@operation(
    "Make new recovery codes",
    why="A button on the security page (after confirming it is you); the old codes stop working.",
    methods=["POST"],
    try_at="accounts:security",
)
@sudo_required
def recovery_codes_regenerate(request: AuthedHttpRequest) -> HttpResponse:
    if not TotpDevice.objects.filter(user=request.user).exists():
        messages.error(request, "Turn on two-factor first.")
        return redirect("accounts:security")
    _codes_keep(request, recovery_codes_generate(user=request.user))
    messages.success(request, "New recovery codes made. The old ones no longer work.")
    return redirect("accounts:recovery_codes")


@operation(
    "Turn off two-factor",
    why="A button on the security page, after confirming it is you (sudo mode).",
    methods=["POST"],
    try_at="accounts:security",
)
@sudo_required
def totp_turn_off(request: AuthedHttpRequest) -> HttpResponse:
    totp_disable(user=request.user)
    messages.success(request, "Two-factor is off. Your recovery codes no longer work.")
    return redirect("accounts:security")


@operation(
    "Rename a passkey",
    why="A small form on the security page; works without JavaScript.",
    methods=["POST"],
    try_at="accounts:security",
)
def passkey_rename(request: AuthedHttpRequest, passkey_id: int) -> HttpResponse:
    passkey = get_object_or_404(Passkey, pk=passkey_id, user=request.user)
    form = PasskeyRenameForm(request.POST, instance=passkey)
    if form.is_valid():
        form.save()
        messages.success(request, "Passkey renamed.")
        return redirect("accounts:security")
    context = {**security_context(request), "rename_form": form, "rename_id": passkey.pk}
    return render(request, "accounts/security.html", context)


@operation(
    "Remove a passkey",
    why="A button on the security page, after confirming it is you (sudo mode).",
    methods=["POST"],
    try_at="accounts:security",
)
@sudo_required
def passkey_delete(request: AuthedHttpRequest, passkey_id: int) -> HttpResponse:
    if passkey_remove(user=request.user, passkey_id=passkey_id):
        messages.success(request, "Passkey removed. It can no longer sign in to your account.")
    return redirect("accounts:security")


@operation(
    "Log in: the second step",
    why="A form on our own page after the password (a code, a recovery code, or a passkey with "
    "JavaScript); works without JavaScript. Wrong codes are counted per account and per address.",
    methods=["GET", "POST"],
    public=True,
)
def login_verify(request: HttpRequest) -> HttpResponse:
    state = pending_state(request)
    if state is None:
        messages.info(request, "Your sign-in expired. Please log in again.")
        return redirect("accounts:login")
    user, backend, next_url = state
    form = SecondFactorForm(request.POST or None, user=user, request=request)
    if request.method == "POST" and form.is_valid():
        target = pending_finish(request, user, backend, next_url)
        if form.used == "recovery":
            left = recovery_codes_left(user=user)
            messages.warning(
                request, f"You used a recovery code; {left} left. Make new ones on the security page."
            )
        return redirect(target)
    context = {
        "form": form,
        "has_passkeys": user.passkeys.exists(),
        "passkeys_here": passkeys_usable_here(request),
    }
    status = (
        429 if form.errors and any(e.code == "locked" for e in form.errors.as_data().get("code", [])) else 200
    )
    return render(request, "accounts/login_verify.html", context, status=status)
