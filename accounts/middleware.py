"""Staff accounts without two-factor are sent to set it up before the staff panel or the admin works,
when `STAFF_REQUIRE_2FA` is on."""

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from accounts.totp import two_factor_enabled


class StaffTwoFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if getattr(settings, "STAFF_REQUIRE_2FA", False) and self._guarded(request):
            user = request.user
            if user.is_authenticated and user.is_staff and not two_factor_enabled(user):
                messages.warning(
                    request,
                    "Staff accounts need two-factor. Turn it on to use the staff panel and the admin.",
                )
                return redirect("accounts:security")
        return self.get_response(request)

    @staticmethod
    def _guarded(request: HttpRequest) -> bool:
        admin = "/" + settings.ADMIN_URL
        # The admin's own login and logout stay open: they are how one gets in and out.
        if request.path in (admin + "login/", admin + "logout/"):
            return False
        return request.path.startswith(("/staff/", admin))
