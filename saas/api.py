"""The JSON API's URLs, mounted at /api/. Each installed app's `api_urls.py` mounts itself, its paths
written in full below /api/ (core.registry.app_urls)."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.api import OAuthCallbackApi
from core.operations import Kind, declare
from core.registry import app_urls

urlpatterns = [
    path("oauth/<str:provider>/callback/", OAuthCallbackApi.as_view(), name="oauth_callback"),
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
            # Swagger UI from our own static files (drf-spectacular-sidecar), its setup script served
            # from this URL too (?script): nothing inline, nothing from a CDN, so our CSP holds.
            SpectacularSwaggerSplitView.as_view(url_name="api_schema"),
            Kind.API,
            "Browsable API docs",
            why="Documentation for API clients, built from the schema.",
        ),
        name="api_docs",
    ),
    *app_urls("api_urls"),
]
