from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.crypto import get_random_string
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from billing import services
from billing import stripe as stripe_api
from billing.forms import CheckoutForm, SimulatedPortalForm
from billing.models import StripeEvent, StripeEventStatus
from billing.plans import PLANS, plan_for
from billing.simulation import simulated_checkout_complete, simulated_portal_change
from core.operations import Kind, operation
from core.types import AuthedHttpRequest


def _go(request: AuthedHttpRequest, url: str) -> HttpResponse:
    """Leave the page: a client-side redirect under htmx (the XHR must not follow it), else a 302."""
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


def _billing_context(request: AuthedHttpRequest) -> dict[str, object]:
    return {
        "plans": PLANS,
        "plan": plan_for(request.user),
        "subscription": services.subscription_get(user=request.user),
        "simulation": stripe_api.simulation_mode(),
        "checkout": request.GET.get("checkout", ""),
        "attempt": get_random_string(24),
    }


@operation(Kind.PAGE, "Your plan and billing", why="Shows the plan and the billing actions; changes nothing.")
@login_required
@require_GET
@vary_on_headers("HX-Request")
def billing_overview(request: AuthedHttpRequest) -> HttpResponse:
    template = "billing/overview.html"
    if request.htmx:
        template += "#plan-card"  # polled while a payment is being confirmed
    return render(request, template, _billing_context(request))


@operation(
    Kind.ACTION,
    "Upgrade: start a Stripe Checkout",
    why="A button on our page that sends you to Stripe (or the simulated checkout); works without JS.",
)
@login_required
@require_POST
def checkout_create(request: AuthedHttpRequest) -> HttpResponse:
    form = CheckoutForm(request.POST)
    if not form.is_valid():
        messages.error(request, "That upgrade form has expired. Please try again.")
        return _go(request, reverse("billing:billing_overview"))
    if plan_for(request.user).price_cents:
        messages.info(request, "You are already on a paid plan.")
        return _go(request, reverse("billing:billing_overview"))
    try:
        url = services.checkout_session_create(
            user=request.user, attempt=form.cleaned_data["attempt"] or get_random_string(24)
        )
    except services.BillingError as error:
        messages.error(request, str(error))
        return _go(request, reverse("billing:billing_overview"))
    return _go(request, url)


@operation(
    Kind.ACTION,
    "Manage billing: open the Stripe customer portal",
    why="A button on our page that sends you to Stripe's portal (or the simulated one); works without JS.",
)
@login_required
@require_POST
def portal_open(request: AuthedHttpRequest) -> HttpResponse:
    try:
        url = services.portal_session_create(user=request.user)
    except services.BillingError as error:
        messages.error(request, str(error))
        return _go(request, reverse("billing:billing_overview"))
    return _go(request, url)


def _simulation_only() -> None:
    if not stripe_api.simulation_mode():
        raise Http404("Billing is connected to Stripe; there is nothing to simulate.")


@operation(
    Kind.ACTION,
    "Simulated Stripe Checkout",
    why="Local stand-in for Stripe's page; confirming sends signed events to our webhook code.",
)
@login_required
@require_http_methods(["GET", "POST"])
def simulated_checkout(request: AuthedHttpRequest) -> HttpResponse:
    _simulation_only()
    if request.method == "POST":
        try:
            simulated_checkout_complete(user=request.user)
        except services.BillingError as error:
            messages.error(request, str(error))
            return _go(request, reverse("billing:billing_overview"))
        messages.success(request, "Welcome to Pro! (simulated payment)")
        return _go(request, reverse("billing:billing_overview") + "?checkout=success")
    return render(request, "billing/simulated_checkout.html", {"plan": PLANS[-1]})


@operation(
    Kind.ACTION,
    "Simulated Stripe customer portal",
    why="Local stand-in for Stripe's portal; each choice sends signed events to our webhook code.",
)
@login_required
@require_http_methods(["GET", "POST"])
def simulated_portal(request: AuthedHttpRequest) -> HttpResponse:
    _simulation_only()
    subscription = services.subscription_get(user=request.user)
    form = SimulatedPortalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            simulated_portal_change(user=request.user, operation=form.cleaned_data["operation"])
        except services.BillingError as error:
            messages.error(request, str(error))
            return _go(request, reverse("billing:billing_overview"))
        messages.success(request, "Your subscription was updated (simulated).")
        return _go(request, reverse("billing:billing_overview"))
    return render(
        request,
        "billing/simulated_portal.html",
        {"form": form, "subscription": subscription, "plan": plan_for(request.user)},
    )


def _staff_only(request: AuthedHttpRequest) -> None:
    if not request.user.is_staff:
        raise PermissionDenied


@operation(Kind.PAGE, "Stripe webhook events", why="Staff look at what Stripe sent and how it went.")
@login_required
@require_GET
def stripe_event_list(request: AuthedHttpRequest) -> HttpResponse:
    _staff_only(request)
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
    Kind.ACTION,
    "Replay a Stripe event",
    why="A staff button in our panel; audit-logged; swaps the row under htmx, redirects without JavaScript.",
)
@login_required
@require_POST
def stripe_event_replay(request: AuthedHttpRequest, event_id: str) -> HttpResponse:
    _staff_only(request)
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
