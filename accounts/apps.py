from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts import (
            schema,  # noqa: F401 - registers the OpenAPI auth extension
            sessions,  # noqa: F401 - logins and logouts write the sessions list
            signals,  # noqa: F401 - a password change revokes the API tokens
            sudo,  # noqa: F401 - a login opens the sudo window
        )
        from accounts.services import api_tokens_export, profile_export, sessions_export
        from core.flags import FlagSpec, flag_register
        from core.registry import Link, export_add, fragment_add, menu_add

        flag_register(FlagSpec("signups", "Sign-ups open", "New people can create an account.", default=True))
        menu_add("account", Link("Profile", "accounts:profile_edit", order=10))
        menu_add("account", Link("API tokens", "accounts:token_list", order=20))
        menu_add("account", Link("Password", "accounts:password_change", order=30))
        menu_add("account", Link("Security", "accounts:security", order=40))
        fragment_add("banners", "accounts/_verify_banner.html", order=20)
        # The data export's own sections; the feature apps add theirs (posts, conversations…).
        export_add("profile", profile_export)
        export_add("api_tokens", api_tokens_export)
        export_add("sessions", sessions_export)
        fragment_add("nav_user", "accounts/_nav_user.html")
        fragment_add("get_started", "accounts/_get_started.html", order=10)
