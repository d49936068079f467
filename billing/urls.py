from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path("pricing/", views.pricing, name="pricing"),
    path("billing/", views.billing_overview, name="billing_overview"),
    path("billing/checkout/", views.checkout_create, name="checkout_create"),
    path("billing/portal/", views.portal_open, name="portal_open"),
    path("billing/simulated/checkout/", views.simulated_checkout, name="simulated_checkout"),
    path("billing/simulated/portal/", views.simulated_portal, name="simulated_portal"),
    # The staff panel's billing tab lives with billing: it shows billing's own models.
    path("staff/webhooks/", views.stripe_event_list, name="stripe_event_list"),
    path("staff/webhooks/<str:event_id>/replay/", views.stripe_event_replay, name="stripe_event_replay"),
]
