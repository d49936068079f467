from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.crypto import get_random_string
from django_htmx.http import HttpResponseClientRedirect

from accounts.verification import EMAIL_UNVERIFIED_MESSAGE, email_verified
from billing import services
from billing import stripe as stripe_api
from billing.forms import CheckoutForm, SimulatedPortalForm
from billing.models import StripeEvent, StripeEventStatus, Subscription
from billing.plans import PLANS, plan_for
from billing.simulation import simulated_checkout_complete, simulated_portal_change
from core.operations import operation
from core.types import AuthedHttpRequest
from teams.services import acting_membership


def _go(request: AuthedHttpRequest, url: str) -> HttpResponse:
    """Leave the page: a client-side redirect under htmx (the XHR must not follow it), else a 302."""
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


def _back_with(request: AuthedHttpRequest, error: Exception) -> HttpResponse:
    """To the billing page, which shows why (a message), for a POST or a GET alike."""
    messages.error(request, str(error))
    return _go(request, reverse("billing:billing_overview"))


def _billing_context(request: AuthedHttpRequest) -> dict[str, object]:
    membership = acting_membership(request)
    team = membership.team
    return {
        "plans": PLANS,
        "team": team,
        "plan": plan_for(team),
        "subscription": Subscription.of(team),
        "seats": services.seats_for(team),
        "may_bill": services.may_bill(membership),
        "billing_mode": stripe_api.billing_mode(),
        "checkout": request.GET.get("checkout", ""),
        "attempt": get_random_string(24),
        "email_verified": email_verified(request.user),
        "email_unverified_message": EMAIL_UNVERIFIED_MESSAGE,
    }


@operation("Pricing", why="Shows the plans; changes nothing.", public=True)
def pricing(request: HttpRequest) -> HttpResponse:
    return render(request, "billing/pricing.html", {"plans": PLANS})


@operation(
    "Your team's plan and billing",
    why="Shows the current team's plan and, to its owners, the billing actions; changes nothing.",
)
def billing_overview(request: AuthedHttpRequest) -> HttpResponse:
    template = "billing/overview.html"
    if request.htmx:
        template += "#plan-card"  # polled while a payment is being confirmed
    return render(request, template, _billing_context(request))


@operation(
    "Upgrade: start a Stripe Checkout",
    why="A button on our page that sends you to Stripe (or the simulated checkout); works without JS. "
    "Needs a confirmed email address.",
    methods=["POST"],
)
def checkout_create(request: AuthedHttpRequest) -> HttpResponse:
    if not email_verified(request.user):
        # Receipts and the customer go to this address: it must be the person's before money moves.
        messages.error(request, EMAIL_UNVERIFIED_MESSAGE)
        return _go(request, reverse("billing:billing_overview"))
    form = CheckoutForm(request.POST)
    if not form.is_valid():
        messages.error(request, "That upgrade form has expired. Please try again.")
        return _go(request, reverse("billing:billing_overview"))
    try:
        url = services.checkout_session_create(
            membership=acting_membership(request),
            attempt=form.cleaned_data["attempt"] or get_random_string(24),
        )
    except services.AlreadySubscribed as already:
        messages.info(request, str(already))
        return _go(request, reverse("billing:billing_overview"))
    except services.BillingError as error:
        return _back_with(request, error)
    return _go(request, url)


@operation(
    "Manage billing: open the Stripe customer portal",
    why="A button on our page that sends you to Stripe's portal (or the simulated one); works without JS.",
    methods=["POST"],
)
def portal_open(request: AuthedHttpRequest) -> HttpResponse:
    try:
        url = services.portal_session_create(membership=acting_membership(request))
    except services.BillingError as error:
        return _back_with(request, error)
    return _go(request, url)


def _simulation_only() -> None:
    if not stripe_api.simulation_mode():
        raise Http404("Billing is not in simulation mode; there is nothing to simulate.")


@operation(
    "Simulated Stripe Checkout",
    why="Local stand-in for Stripe's page; confirming sends signed events to our webhook code.",
    methods=["GET", "POST"],
)
def simulated_checkout(request: AuthedHttpRequest) -> HttpResponse:
    _simulation_only()
    membership = acting_membership(request)
    if not services.may_bill(membership):
        return _back_with(request, services.NotOwner())
    if request.method == "POST":
        try:
            simulated_checkout_complete(membership=membership)
        except services.BillingError as error:
            return _back_with(request, error)
        messages.success(request, "Welcome to Pro! (simulated payment)")
        return _go(request, reverse("billing:billing_overview") + "?checkout=success")
    plan, seats = PLANS[-1], services.seats_for(membership.team)
    context = {"plan": plan, "team": membership.team, "seats": seats, "total": plan.amount_display(seats)}
    return render(request, "billing/simulated_checkout.html", context)


@operation(
    "Simulated Stripe customer portal",
    why="Local stand-in for Stripe's portal; each choice sends signed events to our webhook code.",
    methods=["GET", "POST"],
)
def simulated_portal(request: AuthedHttpRequest) -> HttpResponse:
    _simulation_only()
    membership = acting_membership(request)
    if not services.may_bill(membership):
        return _back_with(request, services.NotOwner())
    subscription = Subscription.of(membership.team)
    form = SimulatedPortalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            simulated_portal_change(membership=membership, operation=form.cleaned_data["operation"])
        except services.BillingError as error:
            return _back_with(request, error)
        messages.success(request, "Your subscription was updated (simulated).")
        return _go(request, reverse("billing:billing_overview"))
    return render(
        request,
        "billing/simulated_portal.html",
        {"form": form, "subscription": subscription, "plan": plan_for(membership.team)},
    )


@operation("Stripe webhook events", why="Staff look at what Stripe sent and how it went.", staff=True)
def stripe_event_list(request: AuthedHttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    events = StripeEvent.objects.defer("payload")
    if status in StripeEventStatus.values:
        events = events.filter(status=status)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "billing/staff_webhooks.html",
        {"page": page, "status": status, "statuses": StripeEventStatus.choices},
    )


@operation(
    "Replay a Stripe event",
    why="A staff button in our panel; audit-logged; swaps the row under htmx, redirects without JavaScript.",
    methods=["POST"],
    staff=True,
    try_at="billing:stripe_event_list",
)
def stripe_event_replay(request: AuthedHttpRequest, event_id: str) -> HttpResponse:
    event = get_object_or_404(StripeEvent.objects.defer("payload"), pk=event_id)
    try:
        event = services.stripe_event_replay(event=event, actor=request.user)
    except services.BillingError as error:
        messages.error(request, str(error))
    else:
        if event.status == StripeEventStatus.PROCESSED:
            messages.success(request, f"Replayed {event.id}: processed.")
        else:
            messages.warning(request, f"Replayed {event.id}: {event.status}.")
    if request.htmx:
        return render(request, "billing/staff_webhooks.html#event-row", {"event": event})
    return redirect("billing:stripe_event_list")
