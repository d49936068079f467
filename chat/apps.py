from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"

    def ready(self) -> None:
        from chat.exports import conversations_export
        from chat.services import LIMIT, chat_messages_used_today
        from core.entitlements import Limit, limit_register
        from core.flags import FlagSpec, flag_register
        from core.registry import Link, export_add, fragment_add, menu_add

        limit_register(
            Limit(
                key=LIMIT,
                usage="chat_messages_today",
                counter=chat_messages_used_today,
                default=20,  # where no plan says otherwise: the model's answers cost money
                describe="{} AI chat messages a day",
                describe_unlimited="Unlimited AI chat messages",
                order=10,
            )
        )
        flag_register(
            FlagSpec("chat", "AI chat", "The chat page and the chat API are available.", default=True)
        )
        menu_add("dashboard", Link("Chat", "chat:conversation_list", current="/chat/", order=20))
        fragment_add("dashboard_cards", "chat/_dashboard_card.html", order=20)
        fragment_add("get_started", "chat/_get_started.html", order=30)
        export_add("chat_conversations", conversations_export)
