from django.urls import path

from billing import api

app_name = "billing_api"

urlpatterns = [
    path("webhooks/stripe/", api.StripeWebhookApi.as_view(), name="stripe_webhook"),
    path("v1/plans/", api.PlanListApi.as_view(), name="plan_list"),
    path("v1/subscription/", api.SubscriptionDetailApi.as_view(), name="subscription_detail"),
]
