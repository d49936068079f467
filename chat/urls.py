from django.urls import path

from chat import views

app_name = "chat"

urlpatterns = [
    path("chat/", views.conversation_list, name="conversation_list"),
    path("chat/<id:pk>/", views.conversation_detail, name="conversation_detail"),
    path("chat/send/", views.message_create, name="message_create"),
    path("chat/<id:pk>/delete/", views.conversation_delete, name="conversation_delete"),
]
