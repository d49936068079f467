"""The account's JSON API: personal tokens for clients, and the profile."""

import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate
from django.db.models import Field
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import permissions, serializers, status
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated, NotFound, Throttled
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts.authentication import BearerTokenAuthentication
from accounts.forms import ProfileForm
from accounts.models import TIME_ZONES, ApiToken, User
from accounts.oauth import ProviderAnswerInvalid, fetch_profile, oauth_client
from accounts.rules import (
    BIO_MESSAGES,
    DISPLAY_NAME_MESSAGES,
    LOGIN_INVALID,
    TOKEN_NAME_MAX,
    TOKEN_NAME_MESSAGES,
)
from accounts.second_step import login_or_second_step
from accounts.services import (
    LoginLock,
    OAuthLoginRefused,
    client_ip,
    login_attempts_clear,
    login_lock,
    oauth_login,
)
from accounts.tokens import TeamNotFound, TokenLimitReached, api_token_create, api_token_revoke
from accounts.totp import (
    second_factor_failure,
    second_factor_lock,
    second_factor_success,
    second_factor_verify,
    two_factor_enabled,
)
from core.operations import operation
from core.types import AuthedRequest

logger = logging.getLogger(__name__)

LOCATION_HEADER = OpenApiParameter(
    "Location",
    OpenApiTypes.URI,
    OpenApiParameter.HEADER,
    description="The URL of what was created.",
    response=[201],
)


class ProfileOutput(serializers.ModelSerializer[User]):
    class Meta:
        model = User
        fields = ["id", "email", "display_name", "bio", "time_zone", "date_joined"]
        read_only_fields = fields


class StrictCharField(serializers.CharField):
    """A string and only a string: DRF's CharField turns 12 into "12"; a profile field takes text."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def _max_length(field: str) -> int | None:
    model_field = User._meta.get_field(field)
    return model_field.max_length if isinstance(model_field, Field) else None


@extend_schema_serializer(component_name="ProfileInput")
class ProfileInput(serializers.Serializer[Any]):
    """The types and limits of `ProfileForm`, for the schema and for strict JSON; the form's own
    rules (a name is not blank nor has control characters) run after it, on the same values."""

    display_name = StrictCharField(
        required=False,
        min_length=1,
        max_length=_max_length("display_name"),
        error_messages=DISPLAY_NAME_MESSAGES,
        help_text="Shown next to your posts. Not blank; no control characters.",
    )
    bio = StrictCharField(
        required=False, allow_blank=True, max_length=_max_length("bio"), error_messages=BIO_MESSAGES
    )
    time_zone = serializers.ChoiceField(required=False, choices=sorted(TIME_ZONES))


class LoginLocked(Throttled):
    """A 429 that says the lock as the login page does, once: DRF's Throttled would add "Expected
    available in 900 seconds." after "locked for about 15 minutes". Retry-After still carries it."""

    def __init__(self, lock: LoginLock) -> None:
        super().__init__(detail=lock.message)
        self.wait = lock.retry_after


@operation(
    "Exchange email and password for an API token; revoke it",
    why="Mobile and other clients: no page, no cookie; exact 201/400/401/429 status codes.",
)
class AuthTokenApi(APIView):
    """POST: email + password (+ device name) → 201 with a new token, shown once.
    DELETE: revokes the bearer token the request is made with → 204."""

    authentication_classes = [BearerTokenAuthentication]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    class InputSerializer(serializers.Serializer[Any]):
        email = serializers.EmailField()
        password = serializers.CharField(trim_whitespace=False, max_length=256)
        device_name = serializers.CharField(
            max_length=TOKEN_NAME_MAX,
            required=False,
            default="API client",
            error_messages=TOKEN_NAME_MESSAGES,
        )
        otp = serializers.CharField(
            max_length=32,
            required=False,
            trim_whitespace=True,
            help_text="For an account with two-factor: the current 6-digit code from the authenticator "
            "app, or an unused recovery code. Without it such an account gets 401 `otp_required`.",
        )
        team = serializers.IntegerField(
            required=False,
            allow_null=True,
            min_value=1,
            max_value=2**63 - 1,
            help_text="The id of one of your teams the token acts within; default: your personal team.",
        )

    class OutputSerializer(serializers.Serializer[Any]):
        token = serializers.CharField()
        id = serializers.IntegerField()
        name = serializers.CharField()
        team = serializers.IntegerField(help_text="The team the token acts within.")
        created_at = serializers.DateTimeField()

    def get_permissions(self) -> list[Any]:
        if self.request is not None and self.request.method == "POST":
            return [permissions.AllowAny()]
        return [permissions.IsAuthenticated()]

    def get_authenticators(self) -> list[Any]:
        # Creating a token needs no credentials beyond the body; a stale header must not block it.
        if self.request is not None and self.request.method == "POST":
            return []
        return super().get_authenticators()

    def get_authenticate_header(self, request: Request) -> str:
        # Wrong credentials are a 401 (with WWW-Authenticate), even on POST where no authenticator runs.
        return BearerTokenAuthentication().authenticate_header(request)

    @extend_schema(
        request=InputSerializer,
        responses={
            (201, "application/json"): OpenApiResponse(
                OutputSerializer,
                description="The new token, shown once. `Location` is this URL: DELETE it with the "
                "token to revoke the token.",
            ),
            (400, "application/json"): OpenApiResponse(
                description='Field errors, or `{"detail", "code": "token_limit"}` at the '
                "cap on active tokens."
            ),
            (401, "application/json"): OpenApiResponse(
                description='Wrong email or password; or, for an account with two-factor, `{"detail", '
                '"code": "otp_required"}` without `otp` and `{"detail", "code": "otp_invalid"}` '
                "with a wrong or used one (counted: too many are a 429)."
            ),
        },
        parameters=[LOCATION_HEADER],
        auth=[],
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        email = data.validated_data["email"]
        # authenticate(): the lockout every login path shares (django-axes), the canonical lookup, and
        # the hasher run for an unknown email too, so the answer's timing tells nothing about accounts.
        user = authenticate(request._request, username=email, password=data.validated_data["password"])
        if not isinstance(user, User):
            lock = login_lock(request=request._request, email=email)
            if lock:
                raise LoginLocked(lock)
            raise AuthenticationFailed(LOGIN_INVALID)
        login_attempts_clear(email=user.email)
        otp_refusal = _otp_check(request, user, data.validated_data.get("otp"))
        if otp_refusal is not None:
            raise otp_refusal
        try:
            token, raw = api_token_create(
                user=user, name=data.validated_data["device_name"], team_id=data.validated_data.get("team")
            )
        except TeamNotFound as refusal:
            # A field error, not a 404: the URL exists; what is wrong is a value in the body.
            return Response({"team": [str(refusal)]}, status=status.HTTP_400_BAD_REQUEST)
        except TokenLimitReached as refusal:
            return Response(
                {"detail": str(refusal), "code": refusal.code}, status=status.HTTP_400_BAD_REQUEST
            )
        output = {
            "token": raw,
            "id": token.pk,
            "name": token.name,
            "team": token.team_id,
            "created_at": token.created_at,
        }
        # The token's resource is this URL, addressed by the token itself (DELETE revokes it).
        location = request.build_absolute_uri(reverse("accounts_api:auth_token"))
        return Response(
            self.OutputSerializer(output).data, status=status.HTTP_201_CREATED, headers={"Location": location}
        )

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request) -> Response:
        if not isinstance(request.auth, ApiToken):
            raise NotAuthenticated("Send the token to revoke as 'Authorization: Bearer <token>'.")
        api_token_revoke(user=request.auth.user, token_id=request.auth.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _otp_check(request: Request, user: User, otp: str | None) -> Exception | None:
    """The second factor of an account with two-factor, through the same counters as the login's
    second step (per account and per client address)."""
    if not two_factor_enabled(user):
        return None
    if not otp:
        return AuthenticationFailed(
            {
                "detail": "This account has two-factor: send `otp`, a code from the app or a recovery code.",
                "code": "otp_required",
            }
        )
    ip = client_ip(request._request.META)
    lock = second_factor_lock(user_id=user.pk, ip=ip)
    if lock:
        return Throttled(wait=lock.retry_after, detail=lock.message)
    if second_factor_verify(user=user, code=otp) is None:
        lock = second_factor_failure(user_id=user.pk, ip=ip)
        if lock:
            return Throttled(wait=lock.retry_after, detail=lock.message)
        return AuthenticationFailed(
            {"detail": "That code is not valid, or was already used.", "code": "otp_invalid"}
        )
    second_factor_success(user_id=user.pk)
    return None


@operation(
    "Read and update your profile",
    why="For clients outside our pages: JSON in and out, field errors as 400.",
)
class MeApi(APIView):
    """The caller's profile. PATCH takes JSON of the right types only (a list or a number where a
    string belongs is a 400, not coerced), then the very form the profile page uses: one set of rules."""

    @extend_schema(responses={200: ProfileOutput})
    def get(self, request: AuthedRequest) -> Response:
        return Response(ProfileOutput(request.user).data)

    @extend_schema(
        request=ProfileInput,
        responses={
            200: ProfileOutput,
            (400, "application/json"): OpenApiResponse(description="Field errors; nothing is stored."),
        },
    )
    def patch(self, request: AuthedRequest) -> Response:
        user = request.user
        if not isinstance(request.data, dict):
            raise serializers.ValidationError({"detail": "Expected a JSON object."})
        unknown = set(request.data) - set(ProfileForm.Meta.fields)
        if unknown:
            raise serializers.ValidationError(
                {field: ["This field cannot be changed."] for field in sorted(unknown)}
            )
        data = ProfileInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        current = {field: getattr(user, field) for field in ProfileForm.Meta.fields}
        form = ProfileForm({**current, **data.validated_data}, instance=user)
        if not form.is_valid():
            raise serializers.ValidationError(
                {field: [str(message) for message in messages] for field, messages in form.errors.items()}
            )
        form.save()
        return Response(ProfileOutput(user).data)


@operation(
    "OAuth / OpenID Connect callback",
    why="A public URL the provider redirects to, with its own protocol; 400 on a forged or replayed call.",
)
class OAuthCallbackApi(APIView):
    """Where GitHub, Google or an OIDC provider sends the browser back: exchange the code, log in, redirect.

    A browser arrives here, so failures are a small HTML page with status 400, not JSON."""

    authentication_classes: list[Any] = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(exclude=True)
    def get(self, request: Request, provider: str) -> HttpResponse:
        # authlib, joserfc and requests are imported on the first sign-in, not at start-up (seconds of it).
        import requests
        from authlib.integrations.base_client import OAuthError
        from joserfc.errors import JoseError

        django_request = request._request
        client = oauth_client(provider)
        if client is None:
            raise NotFound("Unknown sign-in provider.")
        try:
            token = client.authorize_access_token(django_request)
            profile = fetch_profile(provider, client, token)
            user = oauth_login(provider=provider, profile=profile)
        except OAuthError as error:
            logger.info("OAuth callback refused for %s: %s", provider, error)
            return _oauth_error(
                django_request, "The sign-in could not be completed (it expired or was already used)."
            )
        except JoseError as error:
            # A forged or mis-signed ID token, or one for another audience or nonce: never a login.
            logger.warning("OAuth provider %s sent an ID token that does not verify: %s", provider, error)
            return _oauth_error(django_request, "The sign-in could not be verified. Please try again.")
        except (OAuthLoginRefused, ProviderAnswerInvalid) as refusal:
            logger.info("OAuth sign-in with %s refused: %s", provider, refusal)
            return _oauth_error(django_request, str(refusal))
        # RecursionError: a token answer nested deeper than the JSON parser goes (authlib parses it).
        except (requests.RequestException, KeyError, ValueError, RecursionError):
            logger.warning("OAuth provider %s answered unexpectedly", provider, exc_info=True)
            return _oauth_error(django_request, "The provider did not answer as expected. Please try again.")
        if not two_factor_enabled(user):
            messages.success(django_request, f"Signed in with {settings.OAUTH_PROVIDERS[provider]['name']}.")
        # An account with two-factor still takes its second step after the provider.
        return login_or_second_step(
            django_request, user, backend="django.contrib.auth.backends.ModelBackend", next_url=""
        )


def _oauth_error(request: HttpRequest, reason: str) -> HttpResponse:
    return render(request, "accounts/oauth_error.html", {"reason": reason}, status=400)
