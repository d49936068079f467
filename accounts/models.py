import unicodedata
import zoneinfo
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


def email_canonical(email: str) -> str:
    """The one form of an email address that is stored, looked up and counted (login lockouts).

    NFKC folds compatibility look-alikes (U+017F, the long s, is an `s`; a full-width letter is the
    letter), casefold folds case more thoroughly than lower() (`ß` is `ss`); NFKC again because
    casefolding can un-normalise. What is left different stays different: the dotless i (U+0131) is
    not an `i`, so an address spelled with it is another address, never a way into the one with `i`.
    Every lookup is an exact match on this form, never `iexact`, which PostgreSQL answers with UPPER()
    and so folds the dotless i into `I`.
    """
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", email.strip()).casefold())


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra: Any) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=email_canonical(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> "User":
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> "User":
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create(email, password, **extra)

    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        return email_canonical(email or "")

    def get_by_natural_key(self, username: str | None) -> "User":
        # Every login path (forms, admin, API) comes through here: the exact canonical form.
        return self.get(email=email_canonical(username or ""))


# Read from the machine's tz database at run time, never frozen into a migration: machines with another
# tz database must agree on the schema (`makemigrations --check`).
TIME_ZONE_CHOICES = sorted((tz, tz.replace("_", " ")) for tz in zoneinfo.available_timezones() if "/" in tz)
TIME_ZONES = frozenset(["UTC", *(tz for tz, _ in TIME_ZONE_CHOICES)])


def validate_time_zone(value: str) -> None:
    if value not in TIME_ZONES:
        raise ValidationError("Choose a time zone from the list.", code="invalid_choice")


class User(AbstractBaseUser, PermissionsMixin):
    """The account: the email address is the login; the display name is what others see."""

    email = models.EmailField("email address", unique=True)
    display_name = models.CharField(max_length=60, blank=True)
    bio = models.CharField(max_length=280, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    is_staff = models.BooleanField(default=False, help_text="Can use the staff panel and the admin.")
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    # When the address in `email` was proven to be this person's (an emailed link, or a provider that
    # vouches for it); None until then. Changing the address sets it again, only once the new one is proven.
    email_verified_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = email_canonical(self.email)

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Whoever saves (a form, the admin, a script), the stored address is the canonical one.
        self.email = email_canonical(self.email)
        super().save(*args, **kwargs)

    @property
    def name(self) -> str:
        """What the interface calls this person: the display name, else the email's local part."""
        return self.display_name or self.email.split("@", 1)[0]

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def active(self) -> "ApiTokenQuerySet":
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    """A personal API token for mobile and other clients (`Authorization: Bearer <token>`).

    Only a SHA-256 digest is stored: the token itself is shown once, when it is created. The prefix
    (the first characters) lets a person recognise a token in a list without revealing it.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    # The team the token acts within (`teams.services.request_membership` reads it): named by string, as
    # accounts imports no app above it. The token goes with the team.
    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=60, help_text="Where the token is used, e.g. 'iPhone' or 'CI'.")
    prefix = models.CharField(max_length=12)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class SocialAccount(models.Model):
    """A login through an outside provider (GitHub, Google, any OpenID Connect provider) linked to a user."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="social_accounts")
    provider = models.CharField(max_length=20)
    subject = models.CharField(max_length=255, help_text="The provider's stable id for this person.")
    email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_login_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "subject"], name="unique_social_subject")]

    def __str__(self) -> str:
        return f"{self.provider}:{self.subject}"


class UserSession(models.Model):
    """A signed-in browser, for the security page: which sessions an account has and where they are.

    The session store (cached_db, or the database) holds the session itself; this row only describes
    it, keyed by the same session key, so "sign out this one" deletes both. Written at login and then
    at most once a minute per session (`accounts.sessions`); removed at logout, sign-out and password
    change.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="user_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    user_agent = models.CharField(max_length=300, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-last_seen_at"]
        indexes = [models.Index(fields=["user", "-last_seen_at"], name="usersession_user_seen")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.session_key[:6]}…"


# Two-factor (authenticator app, recovery codes, passkeys) lives in its own module.
from accounts.models_mfa import Passkey as Passkey  # noqa: E402
from accounts.models_mfa import RecoveryCode as RecoveryCode  # noqa: E402
from accounts.models_mfa import TotpDevice as TotpDevice  # noqa: E402
