"""The passkey ceremonies: JSON endpoints our own pages call with `navigator.credentials`.

They are API endpoints, not actions: the browser's WebAuthn API takes options and gives back a
credential as data, so the page's script posts JSON and reads JSON (and status codes); no form could
carry the ceremony. Without JavaScript the page hides the passkey controls (they are `hidden` until
the script finds WebAuthn) and the password form still works. They are not part of the public API
(nothing but our pages can answer a challenge for our origin), so they are left out of the schema.
"""

from typing import Any

from django.contrib.auth import login
from django.http import HttpRequest
from django.shortcuts import resolve_url
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts.models import User
from accounts.passkeys import (
    PasskeyRefused,
    authentication_options,
    authentication_verify,
    registration_options,
    registration_verify,
)
from accounts.second_step import pending_finish, pending_state, safe_next
from accounts.sudo import sudo_active, sudo_grant, sudo_url
from core.operations import operation

BACKEND = "django.contrib.auth.backends.ModelBackend"


class CsrfSessionAuthentication(SessionAuthentication):
    """The session, with the CSRF check for anonymous callers too (DRF checks it for signed-in
    ones only): a sign-in is a state change a forged request must not make."""

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        self.enforce_csrf(request)
        return super().authenticate(request)


class CeremonyApi(APIView):
    authentication_classes = [CsrfSessionAuthentication]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"


def _refused(refusal: PasskeyRefused) -> Response:
    return Response({"detail": str(refusal), "code": "passkey_refused"}, status=status.HTTP_400_BAD_REQUEST)


class CredentialInput(serializers.Serializer[Any]):
    credential = serializers.DictField()


@operation(
    "Passkey registration: options",
    why="Called by our security page's script: navigator.credentials.create() takes these options as "
    "data, so it is JSON, not a form. Without JavaScript the passkey controls are hidden.",
)
class PasskeyRegisterOptionsApi(CeremonyApi):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(exclude=True)
    def post(self, request: Request) -> Response:
        if not sudo_active(request._request):
            # Adding a way into the account is as sensitive as removing one.
            referer = reverse("accounts:security")
            return Response(
                {
                    "detail": "Confirm it is you first.",
                    "code": "sudo_required",
                    "redirect": sudo_url(request._request, referer),
                },
                status=status.HTTP_403_FORBIDDEN,
            )
        assert isinstance(request.user, User)
        return Response(registration_options(request._request, request.user))


@operation(
    "Passkey registration: verify",
    why="Called by our security page's script with the browser's new credential (JSON from "
    "navigator.credentials.create()); 201 with the passkey, 400 with why it was refused.",
)
class PasskeyRegisterVerifyApi(CeremonyApi):
    permission_classes = [permissions.IsAuthenticated]

    class InputSerializer(CredentialInput):
        name = serializers.CharField(max_length=60, required=False, allow_blank=True)

    @extend_schema(exclude=True)
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        assert isinstance(request.user, User)
        name = data.validated_data.get("name", "").strip() or "Passkey"
        try:
            passkey = registration_verify(
                request._request, request.user, credential=data.validated_data["credential"], name=name
            )
        except PasskeyRefused as refusal:
            return _refused(refusal)
        return Response(
            {"id": passkey.pk, "name": passkey.name, "redirect": reverse("accounts:security")},
            status=status.HTTP_201_CREATED,
        )


class PurposeInput(serializers.Serializer[Any]):
    purpose = serializers.ChoiceField(choices=["login", "second_step", "sudo"])


def _purpose_user(request: HttpRequest, purpose: str) -> tuple[User | None, str | None]:
    """The account a ceremony is for (None for a passkey-alone login), or why it cannot run."""
    if purpose == "login":
        return None, None
    if purpose == "second_step":
        state = pending_state(request)
        return (state[0], None) if state else (None, "Your sign-in expired. Please log in again.")
    if isinstance(request.user, User):
        return request.user, None
    return None, "Log in first."


@operation(
    "Passkey sign-in: options",
    why="Called by our login, second-step and re-authentication pages' script: "
    "navigator.credentials.get() takes these options as data. Without JavaScript the passkey "
    "button is hidden and the password form works.",
)
class PasskeyAuthOptionsApi(CeremonyApi):
    permission_classes = [permissions.AllowAny]

    @extend_schema(exclude=True)
    def post(self, request: Request) -> Response:
        data = PurposeInput(data=request.data)
        data.is_valid(raise_exception=True)
        purpose = data.validated_data["purpose"]
        user, problem = _purpose_user(request._request, purpose)
        if problem:
            return Response(
                {"detail": problem, "code": "passkey_refused"}, status=status.HTTP_400_BAD_REQUEST
            )
        return Response(authentication_options(request._request, purpose=purpose, user=user))


@operation(
    "Passkey sign-in: verify",
    why="Called by our pages' script with the browser's signed answer (JSON from "
    "navigator.credentials.get()); logs in, finishes the second step or opens sudo mode; "
    "answers where to go next.",
)
class PasskeyAuthVerifyApi(CeremonyApi):
    permission_classes = [permissions.AllowAny]

    class InputSerializer(PurposeInput, CredentialInput):
        next = serializers.CharField(required=False, allow_blank=True, max_length=2000)

    @extend_schema(exclude=True)
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        purpose = data.validated_data["purpose"]
        django_request = request._request
        next_url = safe_next(django_request, data.validated_data.get("next"))
        _, problem = _purpose_user(django_request, purpose)
        if problem:
            return Response(
                {"detail": problem, "code": "passkey_refused"}, status=status.HTTP_400_BAD_REQUEST
            )
        try:
            passkey = authentication_verify(
                django_request, purpose=purpose, credential=data.validated_data["credential"]
            )
        except PasskeyRefused as refusal:
            return _refused(refusal)
        if purpose == "second_step":
            state = pending_state(django_request)
            if state is None or state[0].pk != passkey.user_id:
                return _refused(PasskeyRefused("Your sign-in expired. Please log in again."))
            target = pending_finish(django_request, state[0], state[1], state[2])
        elif purpose == "sudo":
            sudo_grant(django_request)
            target = next_url or reverse("accounts:security")
        else:
            # A user-verified passkey is both factors at once: no second step after it.
            login(django_request, passkey.user, backend=BACKEND)
            target = next_url or resolve_url("core:dashboard")
        return Response({"redirect": target})
