from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"

    def ready(self) -> None:
        from billing.usage import usage_register
        from chat.services import chat_messages_used_today

        # /api/v1/subscription/ reports it next to the plan's chat_messages_per_day.
        usage_register("chat_messages_today", chat_messages_used_today)
