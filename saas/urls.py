from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from accounts.forms import AdminLoginForm
from accounts.second_step import admin_login
from core.registry import app_urls

# The admin's login shares the lockout of every other login path (and says so when it refuses).
admin.site.login_form = AdminLoginForm
# ...and the second step of accounts with two-factor: the admin is no way around it.
admin.site.login = admin_login  # type: ignore[method-assign]

# Each installed app's urls.py mounts itself (core.registry.app_urls): removing an app is removing its
# INSTALLED_APPS line, not an include here.
urlpatterns = [
    path("", include("core.urls")),
    *app_urls("urls"),
    path("api/", include("saas.api")),
    path(settings.ADMIN_URL, admin.site.urls),
]

# Branded pages, JSON on the API, 503 while the database is out (core/errors.py).
handler400 = "core.errors.bad_request"
handler404 = "core.errors.page_not_found"
handler500 = "core.errors.server_error"
