"""Login throttling: repeated failures for one account or one client address are slowed, then refused.

Each failure is counted per key (the email address and the client address, separately) in the cache
within a sliding window. After `slow_after` failures a growing pause is enforced between attempts
(1 s, 2 s, 4 s, …) by refusing early attempts, not by sleeping, so no worker is tied up; after
`lock_after` failures the key is locked for `lockout_seconds`. A successful login clears the account's
counter. With Redis configured, every process shares the counters.
"""

import hashlib
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache

if TYPE_CHECKING:
    from accounts.models import User
    from accounts.oauth import ProviderProfile


@dataclass(frozen=True)
class ThrottleVerdict:
    retry_after: int  # seconds; 0 means the attempt may go ahead
    locked: bool = False

    @property
    def allowed(self) -> bool:
        return self.retry_after == 0


def _keys(email: str, ip: str | None) -> list[str]:
    keys = ["login-fail:acct:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]]
    if ip:
        keys.append(f"login-fail:ip:{ip}")
    return keys


def _record(key: str) -> dict[str, float]:
    value = cache.get(key)
    return value if isinstance(value, dict) else {"failures": 0, "last": 0.0}


def login_throttle_check(*, email: str, ip: str | None) -> ThrottleVerdict:
    """May someone try to log in as `email` from `ip` now? If not, for how long must they wait."""
    conf = settings.LOGIN_THROTTLE
    now = time.time()
    wait, locked = 0.0, False
    for key in _keys(email, ip):
        record = _record(key)
        failures = int(record["failures"])
        if failures >= conf["lock_after"]:
            wait, locked = max(wait, record["last"] + conf["lockout_seconds"] - now), True
        elif failures >= conf["slow_after"]:
            pause = 2 ** (failures - conf["slow_after"])
            wait = max(wait, record["last"] + pause - now)
    return ThrottleVerdict(retry_after=max(0, math.ceil(wait)), locked=locked and wait > 0)


def login_failure_record(*, email: str, ip: str | None) -> None:
    conf = settings.LOGIN_THROTTLE
    now = time.time()
    for key in _keys(email, ip):
        record = _record(key)
        record = {"failures": record["failures"] + 1, "last": now}
        cache.set(key, record, timeout=max(conf["window_seconds"], conf["lockout_seconds"]))


def login_success_record(*, email: str) -> None:
    # Only the account's counter: one person logging in must not unlock an address that is guessing.
    cache.delete(_keys(email, None)[0])


def client_ip(meta: dict[str, object]) -> str | None:
    """The client's address as the server saw it. Behind a proxy, the ASGI server sets it from
    X-Forwarded-For for trusted proxies only (uvicorn's --forwarded-allow-ips)."""
    value = meta.get("REMOTE_ADDR")
    return str(value) if value else None


class OAuthLoginRefused(Exception):
    """The outside login is genuine but cannot become a Twofold login; the message says why."""


def oauth_login(*, provider: str, profile: "ProviderProfile") -> "User":
    """The user behind an outside login: the linked one, else the account with the same verified
    email (linked now), else a new account — unless sign-ups are closed."""
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import SocialAccount, User
    from staff.flags import flag_is_active

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
            user = User.objects.filter(email__iexact=profile.email).first()
            if user is None:
                if not flag_is_active("signups"):
                    raise OAuthLoginRefused("Sign-ups are closed at the moment.")
                user = User.objects.create_user(email=profile.email, display_name=profile.name[:60])
            link = SocialAccount.objects.create(
                user=user, provider=provider, subject=profile.subject, email=profile.email
            )
        if not link.user.is_active:
            raise OAuthLoginRefused("This account is disabled.")
        link.last_login_at = timezone.now()
        link.save(update_fields=["last_login_at"])
        return link.user
