"""Logins: who may try, and how often. Every way of presenting a password (the login form, the Django
admin's login, `POST /api/v1/auth/token/`, the password-change form) calls `django.contrib.auth.authenticate`,
and django-axes sits in front of the backends there (`AxesStandaloneBackend`), so one set of counters
covers them all and no path can be forgotten.

Failures are counted by axes' database handler, per canonical email address and per client address
separately (AXES_LOCKOUT_PARAMETERS), with row locks and `F() + 1`, so concurrent guesses are all counted.
After AXES_FAILURE_LIMIT failures within AXES_COOLOFF_TIME, the account or the address is refused until
the cool-off has passed since its last failure. A successful login, or a password reset, clears the
account's failures only: one person logging in must not unlock an address that is guessing.
"""

import hashlib
import logging
import math
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from axes.helpers import get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.core.cache import cache
from django.db.models import Max, QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone

from accounts.models import email_canonical

if TYPE_CHECKING:
    from accounts.models import User
    from accounts.oauth import ProviderProfile

logger = logging.getLogger(__name__)


def client_ip(meta: dict[str, object]) -> str | None:
    """The client's address as the server saw it. Behind a proxy, the ASGI server sets it from
    X-Forwarded-For for trusted proxies only (uvicorn's --forwarded-allow-ips); the header itself is
    never read here, so rotating it changes nothing."""
    value = meta.get("REMOTE_ADDR")
    return str(value) if value else None


def login_client_ip(request: HttpRequest) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: the address the server resolved, never a raw header."""
    return client_ip(request.META)


def login_username(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str:
    """AXES_USERNAME_CALLABLE: the key of the account's counter is the canonical email, the very
    string the backend looks up, so a look-alike spelling is the same account and the same counter."""
    value = (credentials or {}).get("username") or (credentials or {}).get("email")
    if value is None and request is not None:
        value = request.POST.get("username")
    return email_canonical(str(value or ""))


@dataclass(frozen=True)
class LoginLock:
    retry_after: int  # seconds until an attempt is accepted again
    account: bool  # the account's counter (a password reset lifts it), else only the address's

    @property
    def minutes(self) -> int:
        return max(1, round(self.retry_after / 60))

    @property
    def message(self) -> str:
        plural = "s" if self.minutes != 1 else ""
        if self.account:
            return (
                f"Too many failed attempts. Logging in is locked for about {self.minutes} "
                f"minute{plural}, or reset your password."
            )
        return (
            f"Too many failed attempts from your network. Logging in is locked for about "
            f"{self.minutes} minute{plural}."
        )


def _lock_remaining(attempts: "QuerySet[AccessAttempt]", *, limit: int, cool_off: timedelta) -> float:
    now = timezone.now()
    recent = attempts.filter(attempt_time__gte=now - cool_off).aggregate(
        failures=Sum("failures_since_start"), last=Max("attempt_time")
    )
    if (recent["failures"] or 0) < limit or recent["last"] is None:
        return 0.0
    return float((recent["last"] + cool_off - now).total_seconds())


def login_lock(*, request: HttpRequest, email: str) -> LoginLock | None:
    """After `authenticate()` refused: was it a lock (and which, for how long), or just a wrong password?"""
    if not getattr(request, "axes_locked_out", False):
        return None
    credentials = {"username": email}
    limit = get_failure_limit(request, credentials)
    cool_off = get_cool_off(request) or timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)
    account = _lock_remaining(
        AccessAttempt.objects.filter(username=email_canonical(email)), limit=limit, cool_off=cool_off
    )
    ip = login_client_ip(request)
    address = (
        _lock_remaining(AccessAttempt.objects.filter(ip_address=ip), limit=limit, cool_off=cool_off)
        if ip
        else 0.0
    )
    wait = max(account, address, 1.0)
    return LoginLock(retry_after=math.ceil(wait), account=account >= address)


def login_lockout_response(
    request: HttpRequest, original_response: object = None, credentials: object = None
) -> HttpResponseBase:
    """AXES_LOCKOUT_CALLABLE: the page or API answer already says why (each path words it its own
    way); axes only makes it a 429 with Retry-After, so clients and monitors see a lock as a lock."""
    if isinstance(original_response, HttpResponseBase):
        response = original_response
    else:
        # axes' async middleware path passes no response; the sync one (every login here) does.
        response = HttpResponse("Too many failed attempts.", status=429, content_type="text/plain")
    response.status_code = 429
    if not response.has_header("Retry-After"):
        lock = login_lock(request=request, email=login_username(request, None))
        response["Retry-After"] = str(lock.retry_after if lock else settings.LOGIN_LOCKOUT_SECONDS)
    return response


def login_attempts_clear(*, email: str) -> None:
    """Forget the account's failures (after a successful login or a password reset). Rows are keyed by
    account and address together, so the failures against this account leave the address's count
    too, while its failures against other accounts stay."""
    axes_reset(username=email_canonical(email))


def password_reset_allowed(*, email: str, ip: str | None) -> bool:
    """May a reset email go out now? Counted per canonical address and per client address in the cache
    (atomic add/incr, shared by every process with Redis), so nobody can flood an inbox or use the
    form to mail strangers. The page says "sent" either way, so it tells nothing about accounts."""
    conf = settings.PASSWORD_RESET_THROTTLE
    digest = hashlib.sha256(email_canonical(email).encode()).hexdigest()
    keys = [("reset:email:" + digest, conf["per_email"])]
    if ip:
        keys.append(("reset:ip:" + ip, conf["per_ip"]))
    allowed = True
    for key, limit in keys:
        allowed = _window_count(key, conf["window_seconds"]) <= limit and allowed
    if not allowed:
        logger.warning("Password reset email not sent: rate limit reached (ip %s)", ip)
    return allowed


def signup_allowed(*, ip: str | None) -> bool:
    """May one more account be created from this client address now? Counted like the reset emails, so
    a script cannot fill the database (and the mail queue, one confirmation email each) with accounts."""
    conf = settings.SIGNUP_THROTTLE
    if not ip:
        return True
    allowed: bool = _window_count("signup:ip:" + ip, conf["window_seconds"]) <= conf["per_ip"]
    if not allowed:
        logger.warning("Sign-up refused: rate limit reached (ip %s)", ip)
    return allowed


def _window_count(key: str, window_seconds: int) -> int:
    """Count one more hit on `key` in a fixed window, atomically (add, then incr) in the shared cache."""
    if cache.add(key, 1, timeout=window_seconds):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window_seconds)
        return 1


class OAuthLoginRefused(Exception):
    """The outside login is genuine but cannot become a Twofold login; the message says why."""


def oauth_login(*, provider: str, profile: "ProviderProfile") -> "User":
    """The user behind an outside login: the linked one, else the account with the same verified
    email (linked now), else a new account — unless sign-ups are closed."""
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import SocialAccount, User
    from core.flags import flag_is_active

    with transaction.atomic():
        link = (
            SocialAccount.objects.select_for_update()
            .select_related("user")
            .filter(provider=provider, subject=profile.subject)
            .first()
        )
        if link is None:
            if not profile.email:
                raise OAuthLoginRefused(
                    "Your account there has no verified email address, so we cannot sign you in with it."
                )
            user = User.objects.filter(email=email_canonical(profile.email)).first()
            if user is None:
                if not flag_is_active("signups"):
                    raise OAuthLoginRefused("Sign-ups are closed at the moment.")
                user = User.objects.create_user(
                    email=profile.email, display_name=profile.name[:60], email_verified_at=timezone.now()
                )
            elif user.email_verified_at is None:
                # Someone signed up with this address and never proved it: it may not have been its
                # owner, who proves it now. The password nobody proved goes (its tokens and sessions
                # with it), so a squatter cannot keep a way into the account the owner now uses.
                user.set_unusable_password()
                user.email_verified_at = timezone.now()
                user.save(update_fields=["password", "email_verified_at"])
            link = SocialAccount.objects.create(
                user=user, provider=provider, subject=profile.subject, email=profile.email
            )
        if not link.user.is_active:
            raise OAuthLoginRefused("This account is disabled.")
        if profile.email and email_canonical(profile.email) == link.user.email:
            # The provider vouches for the address the account holds (oauth.fetch_profile only passes
            # on verified ones): it counts as verified here too.
            from accounts.verification import mark_verified

            mark_verified(user=link.user)
        link.last_login_at = timezone.now()
        link.save(update_fields=["last_login_at"])
        return link.user


def account_delete(*, user: "User") -> None:
    """Delete the account and everything that hangs on it (the foreign keys cascade), after asking the
    `account_deleting` receivers (accounts.signals), any of which may refuse with DeletionRefused.
    Its sessions are signed out everywhere."""
    from django.db import transaction

    from accounts.sessions import sessions_end_all
    from accounts.signals import account_deleting

    with transaction.atomic():
        account_deleting.send(sender=type(user), user=user)
        sessions_end_all(user=user)
        user.delete()
    logger.info("Account %s deleted by its owner", user.pk)


def account_export(*, user: "User") -> dict[str, Any]:
    """Everything we hold about the person, as JSON: one section per `core.registry.export_add` (the
    profile, tokens and sessions from accounts; posts, conversations… from the apps installed)."""
    from core.registry import exports

    return {
        "exported_at": timezone.now().isoformat(),
        "format": "twofold-export/1",
        **{name: section(user) for name, section in exports().items()},
    }


def profile_export(user: "User") -> dict[str, Any]:
    return {
        "email": user.email,
        "email_verified": user.email_verified_at is not None,
        "display_name": user.display_name,
        "bio": user.bio,
        "time_zone": user.time_zone,
        "date_joined": user.date_joined.isoformat(),
        "sign_in_providers": [link.provider for link in user.social_accounts.all()],
    }


def api_tokens_export(user: "User") -> list[dict[str, Any]]:
    # Names and dates only: the secret is never stored, and even its digest stays here.
    return [
        {
            "name": token.name,
            "prefix": token.prefix,
            "created_at": token.created_at.isoformat(),
            "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
            "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
        }
        for token in user.api_tokens.all()
    ]


def sessions_export(user: "User") -> list[dict[str, Any]]:
    from accounts.sessions import device_label

    return [
        {
            "device": device_label(row.user_agent),
            "user_agent": row.user_agent,
            "ip": row.ip,
            "created_at": row.created_at.isoformat(),
            "last_seen_at": row.last_seen_at.isoformat(),
        }
        for row in user.user_sessions.all()
    ]
