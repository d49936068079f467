from typing import Any

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from accounts import views
from accounts.forms import LoginForm
from accounts.oauth import providers
from core.operations import Kind, declare

app_name = "accounts"


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "oauth_providers": providers()}


FORM_WHY = "A form on our own page, handled by Django's auth views; works without JavaScript."

urlpatterns = [
    path("accounts/signup/", views.signup, name="signup"),
    path(
        "accounts/login/",
        declare(
            LoginView.as_view(),
            Kind.ACTION,
            "Log in",
            why=FORM_WHY + " Throttled per account and address.",
        ),
        name="login",
    ),
    path(
        "accounts/logout/",
        declare(
            auth_views.LogoutView.as_view(), Kind.ACTION, "Log out", why="A POST button in our navigation."
        ),
        name="logout",
    ),
    path(
        "accounts/password-change/",
        declare(
            auth_views.PasswordChangeView.as_view(
                template_name="accounts/password_change.html",
                success_url=reverse_lazy("accounts:password_change_done"),
            ),
            Kind.ACTION,
            "Change your password",
            why=FORM_WHY,
        ),
        name="password_change",
    ),
    path(
        "accounts/password-change/done/",
        declare(
            auth_views.PasswordChangeDoneView.as_view(template_name="accounts/password_change_done.html"),
            Kind.PAGE,
            "Password changed",
            why="A confirmation page.",
        ),
        name="password_change_done",
    ),
    path(
        "accounts/password-reset/",
        declare(
            auth_views.PasswordResetView.as_view(
                template_name="accounts/password_reset.html",
                email_template_name="accounts/email/password_reset.txt",
                subject_template_name="accounts/email/password_reset_subject.txt",
                success_url=reverse_lazy("accounts:password_reset_done"),
                extra_email_context={"site_name": "Twofold"},
            ),
            Kind.ACTION,
            "Ask for a password reset email",
            why=FORM_WHY,
        ),
        name="password_reset",
    ),
    path(
        "accounts/password-reset/sent/",
        declare(
            auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
            Kind.PAGE,
            "Reset email sent",
            why="A confirmation page.",
        ),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        declare(
            auth_views.PasswordResetConfirmView.as_view(
                template_name="accounts/password_reset_confirm.html",
                success_url=reverse_lazy("accounts:password_reset_complete"),
            ),
            Kind.ACTION,
            "Set a new password from the emailed link",
            why=FORM_WHY,
        ),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        declare(
            auth_views.PasswordResetCompleteView.as_view(
                template_name="accounts/password_reset_complete.html"
            ),
            Kind.PAGE,
            "Password reset complete",
            why="A confirmation page.",
        ),
        name="password_reset_complete",
    ),
    path("auth/<str:provider>/login/", views.oauth_login_start, name="oauth_login"),
    path("dashboard/profile/", views.profile_edit, name="profile_edit"),
    path("dashboard/tokens/", views.token_list, name="token_list"),
    path("dashboard/tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
]
