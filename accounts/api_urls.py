from django.urls import path

from accounts import api

urlpatterns = [
    path("auth/token/", api.AuthTokenApi.as_view(), name="auth_token"),
    path("me/", api.MeApi.as_view(), name="me"),
]
