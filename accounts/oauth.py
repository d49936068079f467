"""Sign in with GitHub, Google or any OpenID Connect provider, through authlib's Django client.

Which providers exist comes from settings.OAUTH_PROVIDERS (only those with a client id and secret).
authlib keeps the state, nonce and PKCE verifier in the session, so a forged or replayed callback
fails (`OAuthError`) and is answered 400. The redirect URI is `SITE_URL/api/oauth/<provider>/callback/`:
register exactly that with the provider.
"""

import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.urls import reverse

if TYPE_CHECKING:
    from authlib.integrations.django_client import OAuth

# authlib (and requests under it) is imported on the first sign-in through a provider, not when the
# URLconf loads: it was more than a second of the production command's start-up.

GITHUB_SCOPE = {"scope": "read:user user:email"}
OIDC_SCOPE = {"scope": "openid email profile", "code_challenge_method": "S256"}


@dataclass(frozen=True)
class ProviderProfile:
    """Who the provider says signed in. `email` is only set when the provider vouches it is verified."""

    subject: str
    email: str | None
    name: str


def providers() -> list[tuple[str, str]]:
    """(key, display name) of the configured providers, for the login page."""
    return [(key, config["name"]) for key, config in settings.OAUTH_PROVIDERS.items()]


@cache
def _registry(config: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]) -> "OAuth":
    from authlib.integrations.django_client import OAuth

    oauth = OAuth()
    for key, items in config:
        conf = dict(items)
        common: dict[str, Any] = {"client_id": conf["client_id"], "client_secret": conf["client_secret"]}
        if key == "github":
            oauth.register(
                key,
                **common,
                authorize_url=f"{conf['web_url']}/login/oauth/authorize",
                access_token_url=f"{conf['web_url']}/login/oauth/access_token",
                api_base_url=conf["api_url"],
                client_kwargs=GITHUB_SCOPE,
            )
        else:
            oauth.register(key, **common, server_metadata_url=conf["discovery_url"], client_kwargs=OIDC_SCOPE)
    return oauth


def oauth_client(provider: str) -> Any | None:
    """The authlib client of a configured provider, or None. Built once per configuration."""
    if provider not in settings.OAUTH_PROVIDERS:
        return None
    frozen = tuple(
        sorted((key, tuple(sorted(conf.items()))) for key, conf in settings.OAUTH_PROVIDERS.items())
    )
    return _registry(frozen).create_client(provider)


def redirect_uri(provider: str) -> str:
    return settings.SITE_URL + reverse("oauth_callback", args=[provider])


class ProviderAnswerInvalid(Exception):
    """The provider answered, but with data we cannot use; the message says what, for the sign-in page."""


# What our tables hold: SocialAccount.subject and an EmailField (RFC 5321 caps a path at 254).
MAX_SUBJECT = 255
MAX_EMAIL = 254
MAX_NAME = 60


def fetch_profile(provider: str, client: Any, token: dict[str, Any]) -> ProviderProfile:
    """The signed-in person, from GitHub's REST API or from OpenID Connect's ID token and UserInfo.

    Whatever the provider sends is checked here, before anything is written: a malformed answer raises
    ProviderAnswerInvalid with a reason a person can read."""
    name = settings.OAUTH_PROVIDERS[provider]["name"]
    if provider == "github":
        user = _json_object(client.get("user", token=token), name, "your profile")
        emails = _json(client.get("user/emails", token=token), name, "your email addresses")
        if not isinstance(emails, list) or not all(isinstance(entry, dict) for entry in emails):
            raise ProviderAnswerInvalid(f"{name} sent your email addresses in a form we do not understand.")
        primary = next(
            (e.get("email") for e in emails if e.get("primary") is True and e.get("verified") is True), None
        )
        subject = user.get("id")
        # GitHub's ids are integers; a bool is an int to Python but never an id.
        if isinstance(subject, bool) or not isinstance(subject, int | str):
            raise ProviderAnswerInvalid(f"{name} did not say who you are.")
        return ProviderProfile(
            _subject(str(subject), name),
            _email(primary, name),
            _display_name(user.get("name")) or _display_name(user.get("login")),
        )
    claims = dict(token.get("userinfo") or {})
    if "email" not in claims or "email_verified" not in claims:
        # OpenID Connect Core 5.4: with the code flow a provider may put the email claims only in
        # UserInfo (node's certified oidc-provider does), so the ID token alone is not enough.
        info = _userinfo(client, token, name)
        if claims and info.get("sub") != claims.get("sub"):
            # Core 5.3.2: a UserInfo answer for another subject must not be used.
            raise ProviderAnswerInvalid(f"{name} described a different person than the one who signed in.")
        claims = {**info, **claims}
    subject = claims.get("sub")
    if not isinstance(subject, str):
        raise ProviderAnswerInvalid(f"{name} did not say who you are.")
    verified = claims.get("email_verified") is True
    return ProviderProfile(
        _subject(subject, name),
        _email(claims.get("email"), name) if verified else None,
        _display_name(claims.get("name")),
    )


def _json(response: Any, name: str, what: str) -> Any:
    if not response.ok:
        raise ProviderAnswerInvalid(
            f"{name} answered with an error ({response.status_code}). Please try again."
        )
    try:
        return response.json()
    except (ValueError, RecursionError) as error:  # RecursionError: JSON nested beyond the parser's depth
        raise ProviderAnswerInvalid(f"{name} did not send {what} (its answer was not valid JSON).") from error


def _json_object(response: Any, name: str, what: str) -> dict[str, Any]:
    data = _json(response, name, what)
    if not isinstance(data, dict):
        raise ProviderAnswerInvalid(f"{name} sent {what} in a form we do not understand.")
    return data


def _userinfo(client: Any, token: dict[str, Any], name: str) -> dict[str, Any]:
    import requests

    try:
        info = client.userinfo(token=token)
    except KeyError as error:  # no userinfo_endpoint in the discovery document
        raise ProviderAnswerInvalid(
            f"{name} has no UserInfo endpoint to tell us your email address."
        ) from error
    except requests.HTTPError as error:
        status = error.response.status_code if error.response is not None else "?"
        raise ProviderAnswerInvalid(f"{name} answered with an error ({status}). Please try again.") from error
    except (ValueError, TypeError, RecursionError) as error:
        raise ProviderAnswerInvalid(
            f"{name} did not send your profile (its answer was not valid JSON)."
        ) from error
    return dict(info)


def _has_control_characters(value: str) -> bool:
    # NUL cannot be stored by PostgreSQL at all; other control characters only forge lines and pages.
    return any(unicodedata.category(char) == "Cc" for char in value)


def _subject(value: str, name: str) -> str:
    if not value or len(value) > MAX_SUBJECT or _has_control_characters(value):
        raise ProviderAnswerInvalid(f"{name} sent an account id we cannot use.")
    return value


def _email(value: object, name: str) -> str | None:
    """A usable address, None when there is none, or ProviderAnswerInvalid when the one sent is unusable."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ProviderAnswerInvalid(f"{name} sent an email address in a form we do not understand.")
    value = value.strip()
    if not value:
        return None
    try:
        if len(value) > MAX_EMAIL or _has_control_characters(value):
            raise ValidationError("unusable")
        validate_email(value)
    except ValidationError as error:
        raise ProviderAnswerInvalid(f"{name} sent an email address we cannot use.") from error
    return value


def _display_name(value: object) -> str:
    """A name is only shown: anything odd about it is dropped rather than refusing the sign-in."""
    if not isinstance(value, str):
        return ""
    cleaned = "".join(
        " " if char.isspace() else char
        for char in value
        if char.isspace() or unicodedata.category(char) != "Cc"
    )
    return " ".join(cleaned.split())[:MAX_NAME]
