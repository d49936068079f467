"""Sign in with GitHub, Google or any OpenID Connect provider, through authlib's Django client.

Which providers exist comes from settings.OAUTH_PROVIDERS (only those with a client id and secret).
authlib keeps the state, nonce and PKCE verifier in the session, so a forged or replayed callback
fails (`OAuthError`) and is answered 400. The redirect URI is `SITE_URL/api/oauth/<provider>/callback/`:
register exactly that with the provider.
"""

from dataclasses import dataclass
from functools import cache
from typing import Any

from authlib.integrations.django_client import OAuth
from django.conf import settings
from django.urls import reverse

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
def _registry(config: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]) -> OAuth:
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


def fetch_profile(provider: str, client: Any, token: dict[str, Any]) -> ProviderProfile:
    """The signed-in person, from the ID token (OpenID Connect) or GitHub's REST API."""
    if provider == "github":
        user = client.get("user", token=token).json()
        emails = client.get("user/emails", token=token).json()
        primary = next((e["email"] for e in emails if e.get("primary") and e.get("verified")), None)
        return ProviderProfile(str(user["id"]), primary, user.get("name") or user.get("login") or "")
    claims = token.get("userinfo") or client.userinfo(token=token)
    email = claims.get("email") if claims.get("email_verified") else None
    return ProviderProfile(str(claims["sub"]), email, claims.get("name") or "")
