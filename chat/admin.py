from django.contrib import admin

from chat.models import Conversation, DailyUsage, Message


class MessageInline(admin.TabularInline[Message, Conversation]):
    model = Message
    extra = 0
    fields = ("role", "status", "content", "stop_reason", "error_code", "input_tokens", "output_tokens")
    readonly_fields = fields  # a record of what was said and used: not edited by hand


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin[Conversation]):
    list_display = ["title", "user", "team", "updated_at"]
    list_select_related = ["user", "team"]
    search_fields = ["title", "user__email", "team__name"]
    raw_id_fields = ["user", "team"]
    inlines = [MessageInline]


@admin.register(DailyUsage)
class DailyUsageAdmin(admin.ModelAdmin[DailyUsage]):
    list_display = ["team", "day", "messages", "input_tokens", "output_tokens"]
    list_select_related = ["team"]
    list_filter = ["day"]
    search_fields = ["team__name", "team__slug"]
    raw_id_fields = ["team"]
