from django.contrib import admin

from chat.models import Conversation, DailyUsage, Message


class MessageInline(admin.TabularInline[Message, Conversation]):
    model = Message
    extra = 0
    fields = ("role", "status", "content", "stop_reason", "error_code", "input_tokens", "output_tokens")
    readonly_fields = fields  # a record of what was said and used: not edited by hand


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin[Conversation]):
    list_display = ["title", "user", "updated_at"]
    list_select_related = ["user"]
    search_fields = ["title", "user__email"]
    raw_id_fields = ["user"]
    inlines = [MessageInline]


@admin.register(DailyUsage)
class DailyUsageAdmin(admin.ModelAdmin[DailyUsage]):
    list_display = ["user", "day", "messages", "input_tokens", "output_tokens"]
    list_select_related = ["user"]
    list_filter = ["day"]
    search_fields = ["user__email"]
    raw_id_fields = ["user"]
