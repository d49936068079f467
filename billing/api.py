"""Billing's HTTP endpoints: the Stripe webhook, the public plan list, and the caller's subscription."""

import hashlib
import json
from functools import cache
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing import services
from billing.models import Subscription
from billing.plans import PLANS, plan_for
from billing.stripe import WebhookError
from core.entitlements import entitlements_for, usage_for
from core.operations import operation
from core.types import AuthedRequest
from teams.services import acting_membership

# Stripe's events are a few kilobytes; an invoice with many lines can reach a few hundred.
MAX_EVENT_BYTES = 512 * 1024


@operation(
    "Stripe webhook",
    why="Called by Stripe, not people: the status code tells Stripe whether to retry.",
)
class StripeWebhookApi(APIView):
    """Receives Stripe's signed events: verify, store once, enqueue, answer 200 at once.

    Any 4xx makes Stripe retry the delivery later; a bad signature will never succeed, but answering
    400 keeps the failure visible in Stripe's dashboard (https://docs.stripe.com/webhooks#retries).
    """

    authentication_classes = ()
    permission_classes = (AllowAny,)
    # Stripe delivers bursts from a few addresses; the signature is the guard, a rate limit would only
    # turn deliveries into retries.
    throttle_classes = ()

    @extend_schema_serializer(component_name="StripeWebhookReceipt")
    class OutputSerializer(serializers.Serializer[Any]):
        id = serializers.CharField()
        duplicate = serializers.BooleanField()

    @extend_schema(
        request={"application/json": OpenApiTypes.OBJECT},
        responses={
            200: OutputSerializer,
            400: OpenApiResponse(description="Refused: the reason in `detail`."),
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        length = request.META.get("CONTENT_LENGTH") or "0"
        if not length.isdigit() or int(length) > MAX_EVENT_BYTES:
            return Response({"detail": "Body too large."}, status=status.HTTP_400_BAD_REQUEST)
        payload = request.body  # the raw bytes: the signature is over them, not over parsed JSON
        if len(payload) > MAX_EVENT_BYTES:
            return Response({"detail": "Body too large."}, status=status.HTTP_400_BAD_REQUEST)
        try:
            event_id, created = services.stripe_event_receive(
                payload=payload, signature=request.headers.get("Stripe-Signature")
            )
        except WebhookError as error:
            return Response({"detail": str(error)}, status=status.HTTP_400_BAD_REQUEST)
        return Response(self.OutputSerializer({"id": event_id, "duplicate": not created}).data)


def _limits_field() -> serializers.DictField:
    # The keys are the limits the installed apps declare (core.entitlements): "chat_messages_per_day",
    # "max_posts", ...; an app removed takes its key with it.
    return serializers.DictField(
        child=serializers.IntegerField(allow_null=True),
        help_text="Each limit an installed app declares, by key; null: unlimited.",
    )


@cache
def _plans_body() -> tuple[bytes, str]:
    data = PlanListApi.OutputSerializer(PLANS, many=True).data
    body = json.dumps(data, separators=(",", ":")).encode()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


@operation(
    "The plans and their prices",
    why="Public, cacheable JSON for pricing pages and apps: Cache-Control, ETag, 304.",
)
class PlanListApi(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = ()  # no database, no per-user work; CDNs fetch it from few addresses
    MAX_AGE = 3600

    @extend_schema_serializer(component_name="Plan")
    class OutputSerializer(serializers.Serializer[Any]):
        key = serializers.CharField()
        name = serializers.CharField()
        tagline = serializers.CharField()
        price_cents = serializers.IntegerField()
        currency = serializers.SerializerMethodField()
        interval = serializers.CharField()
        features = serializers.ListField(child=serializers.CharField())
        entitlements = _limits_field()

        def get_currency(self, plan: object) -> str:
            return "usd"

    @extend_schema(responses={200: OutputSerializer(many=True), 304: None}, auth=[])
    def get(self, request: Request) -> Response:
        body, etag = _plans_body()
        headers = {"ETag": etag, "Cache-Control": f"public, max-age={self.MAX_AGE}"}
        match = request.headers.get("If-None-Match", "")
        if match.strip() == "*" or etag in {tag.strip().removeprefix("W/") for tag in match.split(",")}:
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
        return Response(json.loads(body), headers=headers)


@operation(
    "Your team's plan, subscription state, seats, usage and quota",
    why="JSON for apps and integrations, with bearer tokens; never cached by shared caches.",
)
class SubscriptionDetailApi(APIView):
    @extend_schema_serializer(component_name="Subscription")
    class OutputSerializer(serializers.Serializer[Any]):
        plan = serializers.CharField()
        plan_name = serializers.CharField()
        status = serializers.CharField(help_text="Stripe's subscription status; empty when never subscribed")
        current_period_end = serializers.DateTimeField(allow_null=True)
        cancel_at_period_end = serializers.BooleanField()
        payment_failed = serializers.BooleanField()
        team = serializers.IntegerField(help_text="The team answered for: the token's, else the current one")
        seats = serializers.IntegerField(help_text="The subscription's quantity (0 without one)")
        members = serializers.IntegerField(help_text="The team's number of members")
        quota = _limits_field()
        usage = serializers.DictField(child=serializers.IntegerField())

    @extend_schema(responses=OutputSerializer)
    def get(self, request: AuthedRequest) -> Response:
        team = acting_membership(request).team
        subscription = Subscription.of(team)
        plan = plan_for(team)
        data = {
            "plan": plan.key,
            "plan_name": plan.name,
            "status": subscription.status if subscription else "",
            "current_period_end": subscription.current_period_end if subscription else None,
            "cancel_at_period_end": bool(subscription and subscription.cancel_at_period_end),
            "payment_failed": bool(subscription and subscription.payment_failed),
            "team": team.pk,
            "seats": subscription.quantity if subscription else 0,
            "members": services.seats_for(team),
            "quota": entitlements_for(team),
            "usage": usage_for(team),
        }
        return Response(self.OutputSerializer(data).data, headers={"Cache-Control": "private, no-cache"})
