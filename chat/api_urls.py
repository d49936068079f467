"""The chat API, mounted at /api/v1/chat/ by saas/api.py."""

from django.urls import path

from chat import api

app_name = "chat_api"

urlpatterns = [
    path("conversations/", api.ConversationListApi.as_view(), name="conversation_list"),
    path("conversations/<int:pk>/", api.ConversationDetailApi.as_view(), name="conversation_detail"),
    path("stream/", api.chat_stream, name="stream"),
]
