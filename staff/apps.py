from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "staff"

    def ready(self) -> None:
        from core.registry import Link, menu_add

        menu_add("staff", Link("Staff panel", "staff:home", current="/staff/"))
        # The platform's own tabs come last; the apps' tabs (posts, billing) come first.
        menu_add("staff_tabs", Link("Feature flags", "staff:flag_list", order=80))
        menu_add("staff_tabs", Link("Audit log", "staff:audit_list", order=90))
