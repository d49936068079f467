"""Personal API tokens: creation, lookup and revocation, shared by the tokens page and the API."""

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import ApiToken, User

TOKEN_PREFIX = "tf_"
# Writing last_used_at on every request would turn each read into a write; once a minute is plenty.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret, which is never stored and never shown again."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name.strip() or "Token", prefix=raw[:10], digest=_digest(raw)
    )
    return token, raw


def api_token_authenticate(raw: str) -> ApiToken | None:
    """The active token behind a secret, with its (active) user, or None. One query."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    token = (
        ApiToken.objects.active()
        .select_related("user")
        .filter(digest=_digest(raw), user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def api_token_revoke(*, user: User, token_id: int) -> bool:
    """Revoke one of the user's tokens. Revoking a token that is already revoked is not an error."""
    with transaction.atomic():
        updated = ApiToken.objects.filter(user=user, pk=token_id, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
    return updated == 1
