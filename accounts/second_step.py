"""The second step of a login, for accounts with two-factor.

The first step (a password, or an outside provider) does not log the person in. It leaves a
"half-authenticated" state in the session: a signed value (the user, the backend that checked them,
where to go next and the account's session hash, so a password changed meanwhile voids it) that
expires after `SECOND_STEP_SECONDS` (default five minutes). The second step, an authenticator code,
a recovery code or a passkey, turns it into a real login with `login()`. Every login path comes
through `login_or_second_step`: our form, the Django admin's form, OAuth callbacks.
"""

from typing import Any, cast

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.core import signing
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from accounts.models import User
from accounts.totp import two_factor_enabled

SESSION_KEY = "accounts:2fa-pending"
SALT = "accounts.second-step"


def second_step_seconds() -> int:
    return int(getattr(settings, "SECOND_STEP_SECONDS", 300))


def safe_next(request: HttpRequest, next_url: str | None) -> str:
    if next_url and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return next_url
    return ""


def pending_start(request: HttpRequest, user: User, *, backend: str, next_url: str) -> None:
    state = {"u": user.pk, "b": backend, "n": next_url, "h": user.get_session_auth_hash()}
    request.session[SESSION_KEY] = signing.dumps(state, salt=SALT)


def pending_state(request: HttpRequest) -> tuple[User, str, str] | None:
    """(user, backend, next) of a half-finished login, or None when there is none or it expired."""
    raw = request.session.get(SESSION_KEY)
    if not isinstance(raw, str):
        return None
    try:
        state = signing.loads(raw, salt=SALT, max_age=second_step_seconds())
    except signing.BadSignature:  # expired, or not ours
        request.session.pop(SESSION_KEY, None)
        return None
    user = User.objects.filter(pk=state.get("u"), is_active=True).first()
    if user is None or state.get("h") != user.get_session_auth_hash():
        request.session.pop(SESSION_KEY, None)
        return None
    return user, str(state.get("b")), str(state.get("n") or "")


def pending_finish(request: HttpRequest, user: User, backend: str, next_url: str) -> str:
    """Log the person in after their second step; the URL to send them to."""
    request.session.pop(SESSION_KEY, None)
    login(request, user, backend=backend)
    return safe_next(request, next_url) or reverse(settings.LOGIN_REDIRECT_URL)


def login_or_second_step(request: HttpRequest, user: User, *, backend: str, next_url: str) -> HttpResponse:
    """Log in an account without two-factor; send one with it to the second step."""
    next_url = safe_next(request, next_url)
    if not two_factor_enabled(user):
        login(request, user, backend=backend)
        return redirect(next_url or settings.LOGIN_REDIRECT_URL)
    pending_start(request, user, backend=backend, next_url=next_url)
    return redirect(reverse("accounts:login_verify"))


class SecondStepLoginMixin:
    """For Django's LoginView (ours and the admin's): the right password is the first step only."""

    request: HttpRequest

    def form_valid(self, form: Any) -> HttpResponse:
        user = form.get_user()
        backend = getattr(user, "backend", None) or "django.contrib.auth.backends.ModelBackend"
        return login_or_second_step(
            self.request,
            user,
            backend=backend,
            next_url=cast(Any, self).get_success_url(),
        )


class AdminLoginView(SecondStepLoginMixin, auth_views.LoginView):
    pass


def admin_login(request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
    """`admin.site.login`, as Django's own but with the second step: the admin is no way around it.

    Installed from saas/urls.py: `admin.site.login = admin_login`.
    """
    site = admin.site
    redirect_url = auth_views.LoginView().get_redirect_url(request) or reverse(
        "admin:index", current_app=site.name
    )
    if request.method == "GET" and site.has_permission(request):
        return HttpResponseRedirect(redirect_url)
    context = {
        **site.each_context(request),
        "title": "Log in",
        "subtitle": None,
        "app_path": request.get_full_path(),
        "username": request.user.get_username(),
        "next": redirect_url,
        **(extra_context or {}),
    }
    request.current_app = site.name
    view = AdminLoginView.as_view(
        extra_context=context,
        authentication_form=site.login_form,
        template_name=site.login_template or "admin/login.html",
    )
    return cast(HttpResponse, view(request))
