from django.contrib import admin

from billing.models import StripeEvent, Subscription


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin[Subscription]):
    list_display = (
        "user",
        "status",
        "price_id",
        "current_period_end",
        "cancel_at_period_end",
        "payment_failed",
    )
    list_filter = ("status", "payment_failed")
    search_fields = ("user__email", "stripe_customer_id", "stripe_subscription_id")
    list_select_related = ("user",)
    readonly_fields = ("subscription_event_at", "invoice_event_at", "updated_at")


@admin.register(StripeEvent)
class StripeEventAdmin(admin.ModelAdmin[StripeEvent]):
    list_display = ("id", "type", "status", "attempts", "created", "received_at")
    list_filter = ("status", "type")
    search_fields = ("id",)
    readonly_fields = ("received_at", "processed_at")
