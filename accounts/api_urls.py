from django.urls import path

from accounts import api

app_name = "accounts_api"

urlpatterns = [
    path("v1/auth/token/", api.AuthTokenApi.as_view(), name="auth_token"),
    path("v1/me/", api.MeApi.as_view(), name="me"),
]
