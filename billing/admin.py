from django.contrib import admin

from billing.models import StripeEvent, StripeSubscription, Subscription


class StripeSubscriptionInline(admin.TabularInline[StripeSubscription, Subscription]):
    model = StripeSubscription
    extra = 0
    can_delete = False
    fields = ("stripe_id", "status", "price_id", "current_period_end", "cancel_at_period_end", "started_at")
    readonly_fields = fields
    ordering = ("-started_at", "-pk")


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin[Subscription]):
    list_display = (
        "team",
        "quantity",
        "status",
        "price_id",
        "current_period_end",
        "cancel_at_period_end",
        "payment_failed",
    )
    list_filter = ("status", "payment_failed")
    search_fields = ("team__name", "team__slug", "stripe_customer_id", "stripe_subscription_id")
    list_select_related = ("team",)
    readonly_fields = ("invoice_event_at", "updated_at")
    inlines = (StripeSubscriptionInline,)


@admin.register(StripeEvent)
class StripeEventAdmin(admin.ModelAdmin[StripeEvent]):
    list_display = ("id", "type", "status", "attempts", "created", "received_at")
    list_filter = ("status", "type")
    search_fields = ("id",)
    readonly_fields = ("received_at", "processed_at")
