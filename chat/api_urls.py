"""The chat API, below /api/."""

from django.urls import path

from chat import api

app_name = "chat_api"

urlpatterns = [
    path("v1/chat/conversations/", api.ConversationListApi.as_view(), name="conversation_list"),
    path("v1/chat/conversations/<id:pk>/", api.ConversationDetailApi.as_view(), name="conversation_detail"),
    path("v1/chat/stream/", api.chat_stream, name="stream"),
]
