"""Personal API tokens: creation, lookup and revocation, shared by the tokens page and the API.

Tokens are a second way to present the account's password, so they die with it: every password
change or reset revokes them (`accounts.signals`).
"""

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import ApiToken, User

TOKEN_PREFIX = "tf_"
# Writing last_used_at on every request would turn each read into a write; once a minute is plenty.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# Enough for every device and script a person has; a leaked password cannot mint tokens without end.
MAX_ACTIVE_TOKENS = 20


class TeamNotFound(Exception):
    """The token was asked for a team the user is not in (the API answers 400 on `team`)."""

    def __init__(self) -> None:
        super().__init__("You are not a member of that team.")


def _token_team_id(user: User, team_id: int | None) -> int:
    # Through the user's memberships (reverse relations), not by importing teams: accounts is below it.
    memberships = user.memberships.all()
    if team_id is None:
        memberships = memberships.filter(team__personal=True, role="owner")
    else:
        memberships = memberships.filter(team_id=team_id)
    found: int | None = memberships.values_list("team_id", flat=True).first()
    if found is None:
        raise TeamNotFound
    return found


class TokenLimitReached(Exception):
    """The user already has MAX_ACTIVE_TOKENS active tokens; the message says what to do."""

    code = "token_limit"


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def api_token_create(*, user: User, name: str, team_id: int | None = None) -> tuple[ApiToken, str]:
    """Create a token acting within one of the user's teams (default: their personal team) and return
    it with its secret, which is never stored and never shown again. Raises TeamNotFound for a team the
    user is not in.

    Raises TokenLimitReached at MAX_ACTIVE_TOKENS. The count and the insert happen under a lock on
    the user's row, so concurrent requests (the page and the API at once) cannot pass the cap
    together. SQLite has no row locks, but its IMMEDIATE transactions (settings) serialize writers.
    """
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_team_id = _token_team_id(user, team_id)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).values_list("pk").get()
        if ApiToken.objects.active().filter(user=user).count() >= MAX_ACTIVE_TOKENS:
            raise TokenLimitReached(
                f"You can have at most {MAX_ACTIVE_TOKENS} active tokens. Revoke one first."
            )
        token = ApiToken.objects.create(
            user=user,
            team_id=token_team_id,
            name=name.strip() or "Token",
            prefix=raw[:10],
            digest=_digest(raw),
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


def api_tokens_revoke_all(*, user: User) -> int:
    """Revoke every active token of the user (their password changed); the number revoked."""
    return ApiToken.objects.active().filter(user=user).update(revoked_at=timezone.now())
