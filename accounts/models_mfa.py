"""Two-factor models: an authenticator app's secret, its single-use recovery codes, and passkeys.

Kept apart from `accounts/models.py` (imported at its end) so the account security pieces stay in
their own modules; Django registers them as models of the `accounts` app all the same.
"""

from django.conf import settings
from django.db import models


class TotpDevice(models.Model):
    """An authenticator app (RFC 6238: SHA-1, 30 s steps, 6 digits), confirmed with a first code.

    The secret is stored as it is: the server must compute codes from it. `last_used_step` is the
    time step (Unix time // 30) of the last accepted code, so a code, once used, is never accepted
    again, and neither is an older one.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="totp")
    secret = models.CharField(max_length=64)
    last_used_step = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "authenticator app"

    def __str__(self) -> str:
        return f"authenticator app of {self.user_id}"


class RecoveryCode(models.Model):
    """A single-use code for when the authenticator app is lost. Only a SHA-256 digest is kept: the
    codes are random (50 bits), so a fast hash is enough, as for API tokens."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes"
    )
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "digest"], name="unique_recovery_code")]

    def __str__(self) -> str:
        return f"recovery code {self.pk} of {self.user_id}"


class Passkey(models.Model):
    """A WebAuthn credential (a passkey: discoverable, user-verifying) registered by the account."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="passkeys")
    name = models.CharField(max_length=60)
    credential_id = models.CharField(max_length=1400, unique=True, help_text="base64url, as browsers send it")
    public_key = models.BinaryField()
    sign_count = models.BigIntegerField(default=0)
    transports: models.JSONField[list[str]] = models.JSONField(default=list, blank=True)
    backed_up = models.BooleanField(default=False, help_text="Synced by a passkey provider (multi-device).")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.user_id})"
