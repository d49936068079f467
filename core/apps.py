from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The platform: what every feature app uses and none owns. It imports no feature app."""

    name = "core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core import checks  # noqa: F401  (registers the system checks)
        from core.converters import register

        register()  # `<id:pk>` in every app's URLs
