from django.urls import path

from chat import views

app_name = "chat"

urlpatterns = [
    path("", views.conversation_list, name="conversation_list"),
    path("<int:pk>/", views.conversation_detail, name="conversation_detail"),
    path("send/", views.message_create, name="message_create"),
    path("<int:pk>/delete/", views.conversation_delete, name="conversation_delete"),
]
