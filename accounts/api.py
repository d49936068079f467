"""The account's JSON API: personal tokens for clients, and the profile."""

import logging
from typing import Any

import requests
from authlib.integrations.base_client import OAuthError
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated, NotFound, Throttled
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts.authentication import BearerTokenAuthentication
from accounts.forms import ProfileForm
from accounts.models import ApiToken, User
from accounts.oauth import fetch_profile, oauth_client
from accounts.services import (
    OAuthLoginRefused,
    client_ip,
    login_failure_record,
    login_success_record,
    login_throttle_check,
    oauth_login,
)
from accounts.tokens import api_token_create, api_token_revoke
from core.operations import Kind, operation

logger = logging.getLogger(__name__)


class ProfileOutput(serializers.ModelSerializer[User]):
    class Meta:
        model = User
        fields = ["id", "email", "display_name", "bio", "time_zone", "date_joined"]
        read_only_fields = fields


@operation(
    Kind.API,
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
        device_name = serializers.CharField(max_length=60, required=False, default="API client")

    class OutputSerializer(serializers.Serializer[Any]):
        token = serializers.CharField()
        id = serializers.IntegerField()
        name = serializers.CharField()
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

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer}, auth=[])
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        email = data.validated_data["email"].lower()
        ip = client_ip(request.META)
        verdict = login_throttle_check(email=email, ip=ip)
        if not verdict.allowed:
            raise Throttled(wait=verdict.retry_after, detail="Too many failed attempts.")
        user = User.objects.filter(email__iexact=email, is_active=True).first()
        if user is None or not user.check_password(data.validated_data["password"]):
            login_failure_record(email=email, ip=ip)
            raise AuthenticationFailed("Invalid email or password.")
        login_success_record(email=email)
        token, raw = api_token_create(user=user, name=data.validated_data["device_name"])
        output = {"token": raw, "id": token.pk, "name": token.name, "created_at": token.created_at}
        return Response(self.OutputSerializer(output).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request) -> Response:
        if not isinstance(request.auth, ApiToken):
            raise NotAuthenticated("Send the token to revoke as 'Authorization: Bearer <token>'.")
        api_token_revoke(user=request.auth.user, token_id=request.auth.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


@operation(
    Kind.API,
    "Read and update your profile",
    why="For clients outside our pages: JSON in and out, field errors as 400.",
)
class MeApi(APIView):
    """The caller's profile. PATCH validates with the very form the profile page uses: one set of rules."""

    class InputSerializer(serializers.Serializer[Any]):
        display_name = serializers.CharField(required=False)
        bio = serializers.CharField(required=False, allow_blank=True)
        time_zone = serializers.CharField(required=False)

    @extend_schema(responses={200: ProfileOutput})
    def get(self, request: Request) -> Response:
        return Response(ProfileOutput(request.user).data)  # type: ignore[arg-type]

    @extend_schema(request=InputSerializer, responses={200: ProfileOutput})
    def patch(self, request: Request) -> Response:
        user: User = request.user  # type: ignore[assignment]
        if not isinstance(request.data, dict):
            raise serializers.ValidationError({"detail": "Expected a JSON object."})
        unknown = set(request.data) - set(ProfileForm.Meta.fields)
        if unknown:
            raise serializers.ValidationError(
                {field: ["This field cannot be changed."] for field in sorted(unknown)}
            )
        current = {field: getattr(user, field) for field in ProfileForm.Meta.fields}
        form = ProfileForm({**current, **request.data}, instance=user)
        if not form.is_valid():
            raise serializers.ValidationError(
                {field: [str(message) for message in messages] for field, messages in form.errors.items()}
            )
        form.save()
        return Response(ProfileOutput(user).data)


@operation(
    Kind.API,
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
        except OAuthLoginRefused as refusal:
            return _oauth_error(django_request, str(refusal))
        except (requests.RequestException, KeyError, ValueError):
            logger.warning("OAuth provider %s answered unexpectedly", provider, exc_info=True)
            return _oauth_error(django_request, "The provider did not answer as expected. Please try again.")
        login(django_request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(django_request, f"Signed in with {settings.OAUTH_PROVIDERS[provider]['name']}.")
        return redirect(settings.LOGIN_REDIRECT_URL)


def _oauth_error(request: HttpRequest, reason: str) -> HttpResponse:
    return render(request, "accounts/oauth_error.html", {"reason": reason}, status=400)
