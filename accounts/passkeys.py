"""Passkeys (WebAuthn, with py_webauthn): registration, sign-in with a passkey alone, a passkey as the
second step of a login, and a passkey as the proof for sudo mode.

Each ceremony is two JSON endpoints our own pages call with `navigator.credentials`: options (a fresh
challenge, kept in the session) and verify (the browser's answer, checked against that challenge,
which is removed on first use whatever the outcome). The relying party is SITE_URL: its host is the
RP ID and its origin the only origin accepted. Credentials are discoverable (resident keys) and user
verification is required, so a passkey alone is a login: something you have, unlocked by something
you are or know. The sign counter is checked: an authenticator that reports a counter not above the
stored one (a cloned key) is refused.
"""

import base64
import ipaddress
import json
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import webauthn
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from accounts.models import User
from accounts.models_mfa import Passkey

logger = logging.getLogger(__name__)

CHALLENGE_KEY = "accounts:passkey-challenge"
TIMEOUT_MS = 120_000


@dataclass(frozen=True)
class RelyingParty:
    id: str
    origin: str
    name: str


def relying_party() -> RelyingParty:
    """From SITE_URL. Browsers refuse an IP address as RP ID, so a loopback address (the default
    http://127.0.0.1:8000) becomes `localhost` on the same port: open the site there for passkeys."""
    parts = urlsplit(settings.SITE_URL)
    host = parts.hostname or "localhost"
    try:
        if ipaddress.ip_address(host).is_loopback:
            host = "localhost"
    except ValueError:
        pass
    origin = f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")
    return RelyingParty(id=host, origin=origin, name=getattr(settings, "SITE_NAME", "Twofold"))


def passkeys_usable_here(request: HttpRequest) -> bool:
    """Whether this page is served from the relying party's origin (where a ceremony can succeed)."""
    return f"{request.scheme}://{request.get_host()}" == relying_party().origin


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class PasskeyRefused(Exception):
    """The ceremony failed: the message is for the person."""


def _challenge_store(request: HttpRequest, purpose: str, challenge: bytes, user_id: int | None) -> None:
    request.session[CHALLENGE_KEY] = {
        "purpose": purpose,
        "challenge": b64url(challenge),
        "user": user_id,
        "expires": timezone.now().timestamp() + TIMEOUT_MS / 1000,
    }


def _challenge_take(request: HttpRequest, purpose: str) -> tuple[bytes, int | None]:
    """The challenge of this ceremony, removed from the session: each is good for one answer."""
    stored = request.session.pop(CHALLENGE_KEY, None)
    if (
        not isinstance(stored, dict)
        or stored.get("purpose") != purpose
        or stored.get("expires", 0) < timezone.now().timestamp()
    ):
        raise PasskeyRefused("This passkey request expired or was already used. Please try again.")
    return webauthn.base64url_to_bytes(stored["challenge"]), stored.get("user")


def _descriptor(passkey: Passkey) -> PublicKeyCredentialDescriptor:
    transports = []
    for name in passkey.transports:
        try:
            transports.append(AuthenticatorTransport(name))
        except ValueError:
            continue
    return PublicKeyCredentialDescriptor(
        id=webauthn.base64url_to_bytes(passkey.credential_id), transports=transports or None
    )


def registration_options(request: HttpRequest, user: User) -> dict[str, Any]:
    rp = relying_party()
    options = webauthn.generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_id=str(user.pk).encode(),
        user_name=user.email,
        user_display_name=user.name,
        timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[_descriptor(p) for p in user.passkeys.all()],
    )
    _challenge_store(request, "register", options.challenge, user.pk)
    parsed: dict[str, Any] = json.loads(webauthn.options_to_json(options))
    return parsed


def registration_verify(
    request: HttpRequest, user: User, *, credential: dict[str, Any], name: str
) -> Passkey:
    challenge, user_id = _challenge_take(request, "register")
    if user_id != user.pk:
        raise PasskeyRefused("This passkey request was made for another account.")
    rp = relying_party()
    try:
        verified = webauthn.verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            require_user_verification=True,
        )
    except (WebAuthnException, KeyError, TypeError, ValueError) as error:
        logger.info("Passkey registration refused: %s", error)
        raise PasskeyRefused("Your browser's answer could not be verified. Please try again.") from None
    credential_id = b64url(verified.credential_id)
    if Passkey.objects.filter(credential_id=credential_id).exists():
        raise PasskeyRefused("This passkey is already registered.")
    transports = credential.get("response", {}).get("transports") or []
    return Passkey.objects.create(
        user=user,
        name=name,
        credential_id=credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=[t for t in transports if isinstance(t, str)][:8],
        backed_up=verified.credential_backed_up,
    )


PURPOSES = ("login", "second_step", "sudo")


def authentication_options(request: HttpRequest, *, purpose: str, user: User | None) -> dict[str, Any]:
    """For `login` no user is known and no credential listed (the browser offers its discoverable
    ones); for the second step and sudo, the account's own passkeys."""
    allow = [_descriptor(p) for p in user.passkeys.all()] if user is not None else []
    options = webauthn.generate_authentication_options(
        rp_id=relying_party().id,
        timeout=TIMEOUT_MS,
        allow_credentials=allow,
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    _challenge_store(request, purpose, options.challenge, user.pk if user else None)
    parsed: dict[str, Any] = json.loads(webauthn.options_to_json(options))
    return parsed


def authentication_verify(request: HttpRequest, *, purpose: str, credential: dict[str, Any]) -> Passkey:
    """The passkey that answered the challenge, its counter and last use updated; refused otherwise."""
    challenge, user_id = _challenge_take(request, purpose)
    raw_id = credential.get("id") if isinstance(credential, dict) else None
    if not isinstance(raw_id, str):
        raise PasskeyRefused("Your browser's answer could not be verified. Please try again.")
    passkey = Passkey.objects.select_related("user").filter(credential_id=raw_id).first()
    if passkey is None or not passkey.user.is_active:
        raise PasskeyRefused("This passkey is not registered with any account here.")
    if user_id is not None and passkey.user_id != user_id:
        raise PasskeyRefused("This passkey belongs to another account.")
    rp = relying_party()
    try:
        verified = webauthn.verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=bytes(passkey.public_key),
            credential_current_sign_count=passkey.sign_count,
            require_user_verification=True,
        )
    except (WebAuthnException, KeyError, TypeError, ValueError) as error:
        logger.info("Passkey sign-in refused for passkey %s: %s", passkey.pk, error)
        raise PasskeyRefused("Your passkey's answer could not be verified. Please try again.") from None
    with transaction.atomic():
        # The counter moves forward only; a concurrent answer with the same count loses.
        updated = Passkey.objects.filter(pk=passkey.pk, sign_count=passkey.sign_count).update(
            sign_count=verified.new_sign_count,
            last_used_at=timezone.now(),
            backed_up=verified.credential_backed_up,
        )
    if not updated:
        raise PasskeyRefused("Your passkey's answer could not be verified. Please try again.")
    passkey.refresh_from_db()
    return passkey


def passkey_remove(*, user: User, passkey_id: int) -> bool:
    return Passkey.objects.filter(user=user, pk=passkey_id).delete()[0] > 0
