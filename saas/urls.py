from django.conf import settings
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("core.urls")),
    path("", include("accounts.urls")),
    path("", include("billing.urls")),
    path("", include("posts.urls")),
    path("", include("staff.urls")),
    path("chat/", include("chat.urls")),
    path("api/", include("saas.api")),
    path(settings.ADMIN_URL, admin.site.urls),
]
