"""The JSON API's URLs, mounted at /api/. Each app contributes its endpoints from its own `api.py`."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts.api import OAuthCallbackApi
from core.operations import Kind, declare

urlpatterns = [
    path("oauth/<str:provider>/callback/", OAuthCallbackApi.as_view(), name="oauth_callback"),
    path("v1/", include(("accounts.api_urls", "accounts_api"), namespace="accounts_api")),
    path("v1/", include(("posts.api_urls", "posts_api"), namespace="posts_api")),
    path(
        "schema/",
        declare(
            SpectacularAPIView.as_view(),
            Kind.API,
            "OpenAPI 3 schema",
            why="Machine-readable description for client generators; plain HTTP GET.",
        ),
        name="api_schema",
    ),
    path(
        "docs/",
        declare(
            SpectacularSwaggerView.as_view(url_name="api_schema"),
            Kind.API,
            "Browsable API docs",
            why="Documentation for API clients, built from the schema.",
        ),
        name="api_docs",
    ),
    path("", include("billing.api_urls")),
    path("v1/chat/", include("chat.api_urls")),
]
