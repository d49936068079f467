"""Email verification: proving that an address belongs to the person whose account holds it.

One public check for every app that gates something on it (billing's checkout, the tokens page, team
invitations): `email_verified(user)`, with `EMAIL_UNVERIFIED_MESSAGE` to show where it refuses.

A link carries a signed token (`django.core.signing`, salted for this use) naming the account, the
address it proves and a fingerprint of the account's address state (its current address and when that
was verified). Using a link changes that state, so every link minted before it stops working: a link is
single-use without a table of used links. Links expire after `EMAIL_VERIFY_MAX_AGE` (three days).

The same link proves a new address when the account asks to change it: the address in the token is
not the account's yet, and only becomes it when the link is used, after which the old address is told.
"""

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import transaction
from django.template import loader
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from accounts.models import User, email_canonical
from core.mail import ReadableEmail

logger = logging.getLogger(__name__)

SALT = "accounts.email-verification"
EMAIL_UNVERIFIED_MESSAGE = (
    "Confirm your email address first: open the link we emailed you, or ask for a new one "
    "from the banner at the top of the page."
)


def email_verified(user: Any) -> bool:
    """Has this account proven its email address? The one check other apps call (False when anonymous)."""
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "email_verified_at", None))


def max_age() -> int:
    return int(getattr(settings, "EMAIL_VERIFY_MAX_AGE", 3 * 24 * 3600))


def _state(user: User) -> str:
    verified = user.email_verified_at.isoformat() if user.email_verified_at else "-"
    return salted_hmac(SALT, f"{user.pk}|{user.email}|{verified}", algorithm="sha256").hexdigest()[:20]


def verification_token(*, user: User, email: str) -> str:
    """A signed, expiring, single-use token proving `email` for `user` once it comes back."""
    return signing.dumps({"u": user.pk, "e": email_canonical(email), "s": _state(user)}, salt=SALT)


def verification_url(*, user: User, email: str) -> str:
    return settings.SITE_URL + reverse(
        "accounts:email_verify", args=[verification_token(user=user, email=email)]
    )


class LinkInvalid(Exception):
    """The link cannot be used; the message says why, for the page."""


@dataclass(frozen=True)
class LinkTarget:
    user: User
    email: str

    @property
    def is_change(self) -> bool:
        return self.email != self.user.email


def verification_read(token: str) -> LinkTarget:
    """The account and address a token proves, or LinkInvalid (expired, forged, already used)."""
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age())
    except signing.SignatureExpired as error:
        raise LinkInvalid("This link has expired. Ask for a new one from your account.") from error
    except signing.BadSignature as error:
        raise LinkInvalid("This link is not valid. Check that it was copied whole.") from error
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("u"), int)
        or not isinstance(data.get("e"), str)
        or not isinstance(data.get("s"), str)
    ):
        raise LinkInvalid("This link is not valid. Check that it was copied whole.")
    user = User.objects.filter(pk=data["u"], is_active=True).first()
    if user is None:
        raise LinkInvalid("This link is not valid any more: the account is gone.")
    if not constant_time_compare(data["s"], _state(user)):
        if user.email == data["e"] and user.email_verified_at:
            raise LinkInvalid("This address is already confirmed. Nothing more to do.")
        raise LinkInvalid("This link was already used or replaced by a newer one.")
    return LinkTarget(user=user, email=data["e"])


class AddressTaken(Exception):
    """Another account holds the address now; the message says so."""


def verification_confirm(token: str) -> LinkTarget:
    """Use a link: mark the address verified, or make the new address the account's (telling the old one).

    Raises LinkInvalid or AddressTaken. The state is checked again under a row lock, so two clicks at
    once use the link once."""
    with transaction.atomic():
        target = verification_read(token)
        user = User.objects.select_for_update().get(pk=target.user.pk)
        if _state(user) != _state(target.user):
            raise LinkInvalid("This link was already used or replaced by a newer one.")
        old_email = user.email
        if target.email != old_email:
            if User.objects.filter(email=target.email).exclude(pk=user.pk).exists():
                raise AddressTaken("Another account uses this address now, so it cannot become yours.")
            user.email = target.email
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email", "email_verified_at"])
    if old_email != user.email:
        _send(
            to=old_email,
            subject="Your Twofold email address was changed",
            template="accounts/email/email_changed.txt",
            context={"user": user, "old_email": old_email, "new_email": user.email},
        )
        logger.info("User %s changed their email address", user.pk)
    return LinkTarget(user=user, email=user.email)


def mark_verified(*, user: User) -> None:
    """An outside provider vouched for the account's address (accounts.services.oauth_login)."""
    if user.email_verified_at is None:
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])


def sends_allowed(*, user: User) -> bool:
    """May another verification email go out for this account now? A few an hour (atomic in the cache),
    so the button cannot be used to flood an inbox, ours or a stranger's."""
    conf = getattr(settings, "EMAIL_VERIFY_THROTTLE", {"per_user": 3, "window_seconds": 3600})
    key = "verify:user:" + hashlib.sha256(str(user.pk).encode()).hexdigest()[:16]
    if cache.add(key, 1, timeout=conf["window_seconds"]):
        return True
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=conf["window_seconds"])
        count = 1
    return bool(count <= conf["per_user"])


def verification_send(*, user: User) -> None:
    """Email the account's address a link that proves it."""
    _send(
        to=user.email,
        subject="Confirm your email address for Twofold",
        template="accounts/email/verify.txt",
        context={
            "user": user,
            "url": verification_url(user=user, email=user.email),
            "days": max_age() // 86400,
        },
    )


def email_change_send(*, user: User, new_email: str) -> None:
    """Email the new address a link; the account keeps the old one until the link is used."""
    _send(
        to=new_email,
        subject="Confirm your new email address for Twofold",
        template="accounts/email/email_change.txt",
        context={
            "user": user,
            "new_email": new_email,
            "url": verification_url(user=user, email=new_email),
            "days": max_age() // 86400,
        },
    )


def _send(*, to: str, subject: str, template: str, context: dict[str, Any]) -> None:
    body = loader.render_to_string(template, {"site_name": "Twofold", **context})
    try:
        ReadableEmail(subject, body, None, [to]).send()
    except Exception:
        # A mail server away must not break sign-up; the banner's "resend" is there for this.
        logger.exception("Failed to send %s to user %s", template, context["user"].pk)
