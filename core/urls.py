from django.urls import path

from core import views

app_name = "core"

urlpatterns = [
    path("", views.landing, name="landing"),
    path("guide/", views.guide, name="guide"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("status/", views.status_page, name="status"),
]
