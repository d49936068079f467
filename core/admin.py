from django.contrib import admin

from core.models import AuditEntry, Flag


@admin.register(Flag)
class FlagAdmin(admin.ModelAdmin[Flag]):
    list_display = ["name", "enabled", "label", "updated_at", "updated_by"]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin[AuditEntry]):
    list_display = ["created_at", "actor_email", "action", "target_type", "target_repr"]
    list_filter = ["action"]
    search_fields = ["actor_email", "target_repr"]

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False  # the log is append-only

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
