"""Two-factor with an authenticator app (RFC 6238 TOTP) and recovery codes.

Codes are SHA-1, 30-second steps, 6 digits: what every authenticator app speaks. Drift policy: the
code of the current step is accepted, and of the step before and the step after (a phone's clock a
little off, a code typed as it rolled over): RFC 6238 section 5.2 recommends at most one step of
allowance. A code is accepted only for a step later than the last one accepted (`last_used_step`,
advanced by a conditional UPDATE, so two requests racing with the same code cannot both win).

Recovery codes: ten random codes, shown once, stored as SHA-256 digests, each usable once.

Wrong codes are counted per account and per client address (`second_factor_lock`), on every path
that takes one: the second step of the login, the token API.
"""

import hashlib
import math
import secrets
import time
from dataclasses import dataclass

import pyotp
import segno
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.models_mfa import RecoveryCode, TotpDevice

STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1  # the step before and the step after the current one are accepted too
RECOVERY_CODE_COUNT = 10
# No 0/O, 1/I/L: a code copied from paper is read back right.
RECOVERY_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
ISSUER = "Twofold"


def totp_secret_new() -> str:
    """A new secret: 160 bits (RFC 4226's recommended length), base32 as apps expect it."""
    return pyotp.random_base32(length=32)


def totp_uri(*, secret: str, email: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=email, issuer_name=getattr(settings, "SITE_NAME", ISSUER)
    )


def totp_qr_svg(uri: str) -> str:
    """The QR code as an inline SVG, drawn here: the secret never goes to an outside service."""
    qr = segno.make(uri, error="m")
    svg: str = qr.svg_inline(scale=5, border=2, dark="#111827", light="#ffffff", omitsize=False)
    return svg


def time_step(at: float | None = None) -> int:
    return int((time.time() if at is None else at) // STEP_SECONDS)


def totp_code(secret: str, step: int) -> str:
    """The code of one time step (tests compute codes with it, or with pyotp directly)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).at(step * STEP_SECONDS)


def totp_match_step(secret: str, code: str, *, at: float | None = None) -> int | None:
    """The time step whose code this is, within the drift allowance; None when it matches none."""
    code = normalize_code(code)
    if len(code) != DIGITS or not code.isdigit():
        return None
    now = time_step(at)
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if secrets.compare_digest(totp_code(secret, step), code):
            return step
    return None


def normalize_code(code: str) -> str:
    return "".join(code.split()).replace("-", "").upper()


def two_factor_enabled(user: object) -> bool:
    return isinstance(user, User) and TotpDevice.objects.filter(user=user).exists()


def _digest(code: str) -> str:
    return hashlib.sha256(normalize_code(code).encode()).hexdigest()


def recovery_codes_generate(*, user: User) -> list[str]:
    """Ten new codes, replacing any earlier ones; returned once, for the page to show."""
    codes = [
        "-".join("".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(5)) for _ in range(2))
        for _ in range(RECOVERY_CODE_COUNT)
    ]
    with transaction.atomic():
        RecoveryCode.objects.filter(user=user).delete()
        RecoveryCode.objects.bulk_create(RecoveryCode(user=user, digest=_digest(code)) for code in codes)
    return codes


def recovery_codes_left(*, user: User) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


class CodeInvalid(Exception):
    """The code is not the current one (or was already used)."""


def totp_enable(*, user: User, secret: str, code: str) -> list[str]:
    """Turn two-factor on with the secret the person's app now holds, proven by a first code.
    Returns the recovery codes, to be shown once."""
    step = totp_match_step(secret, code)
    if step is None:
        raise CodeInvalid("That code does not match. Check the time on your phone and try the next code.")
    with transaction.atomic():
        TotpDevice.objects.filter(user=user).delete()
        TotpDevice.objects.create(user=user, secret=secret, last_used_step=step, last_used_at=timezone.now())
        return recovery_codes_generate(user=user)


def totp_disable(*, user: User) -> None:
    with transaction.atomic():
        TotpDevice.objects.filter(user=user).delete()
        RecoveryCode.objects.filter(user=user).delete()


def second_factor_verify(*, user: User, code: str) -> str | None:
    """Check and consume a code: "totp" or "recovery" for what it was, None when it is neither.

    Both are consumed with a conditional UPDATE, so a code is good for one request only.
    """
    device = TotpDevice.objects.filter(user=user).first()
    if device is None:
        return None
    now = timezone.now()
    step = totp_match_step(device.secret, code)
    if step is not None:
        won = TotpDevice.objects.filter(pk=device.pk, last_used_step__lt=step).update(
            last_used_step=step, last_used_at=now
        )
        return "totp" if won else None
    normalized = normalize_code(code)
    if len(normalized) != 10:
        return None
    used = RecoveryCode.objects.filter(user=user, digest=_digest(normalized), used_at__isnull=True).update(
        used_at=now
    )
    return "recovery" if used else None


# --- Throttle of wrong codes -----------------------------------------------------------------


@dataclass(frozen=True)
class SecondFactorLock:
    retry_after: int

    @property
    def message(self) -> str:
        minutes = max(1, math.ceil(self.retry_after / 60))
        plural = "s" if minutes != 1 else ""
        return f"Too many wrong codes. Try again in about {minutes} minute{plural}."


def _throttle() -> dict[str, int]:
    return {
        "window_seconds": 900,
        "per_account": 5,
        "per_ip": 20,
        **getattr(settings, "SECOND_FACTOR_THROTTLE", {}),
    }


def _keys(user_id: int, ip: str | None) -> list[tuple[str, int]]:
    conf = _throttle()
    keys = [(f"2fa:fail:user:{user_id}", conf["per_account"])]
    if ip:
        keys.append((f"2fa:fail:ip:{ip}", conf["per_ip"]))
    return keys


def second_factor_lock(*, user_id: int, ip: str | None) -> SecondFactorLock | None:
    """Refuse before checking a code once the account or the address had too many wrong ones."""
    for key, limit in _keys(user_id, ip):
        count = cache.get(key)
        if isinstance(count, int) and count >= limit:
            until = cache.get(key + ":until")
            wait = (
                int(until - time.time()) if isinstance(until, (int, float)) else _throttle()["window_seconds"]
            )
            return SecondFactorLock(retry_after=max(1, wait))
    return None


def second_factor_failure(*, user_id: int, ip: str | None) -> SecondFactorLock | None:
    """Count a wrong code against the account and the address (atomic add/incr, shared by every
    process with Redis); the window runs from the first failure. The lock, when this one locked."""
    window = _throttle()["window_seconds"]
    for key, _ in _keys(user_id, ip):
        if cache.add(key, 1, timeout=window):
            cache.set(key + ":until", time.time() + window, timeout=window)
            continue
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=window)
            cache.set(key + ":until", time.time() + window, timeout=window)
    return second_factor_lock(user_id=user_id, ip=ip)


def second_factor_success(*, user_id: int) -> None:
    """A right code forgets the account's failures (never the address's: it may be guessing others)."""
    cache.delete_many([f"2fa:fail:user:{user_id}", f"2fa:fail:user:{user_id}:until"])
