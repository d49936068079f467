from typing import Any

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from accounts import passkeys_api, views, views_security
from accounts.forms import LoginForm, PasswordChangeForm, PasswordResetForm, SetPasswordForm
from accounts.oauth import providers
from accounts.passkeys import passkeys_usable_here
from accounts.second_step import SecondStepLoginMixin
from accounts.sudo import sudo_required
from core.operations import Kind, declare

app_name = "accounts"


class LoginView(SecondStepLoginMixin, auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {
            **super().get_context_data(**kwargs),
            "oauth_providers": providers(),
            "passkeys_here": passkeys_usable_here(self.request),
        }


class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = PasswordChangeForm
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:password_change_done")

    def get_form_kwargs(self) -> dict[str, Any]:
        # The old password goes through authenticate(), which needs the request (the client address).
        return {**super().get_form_kwargs(), "request": self.request}


FORM_WHY = "A form on our own page, handled by Django's auth views; works without JavaScript."

urlpatterns = [
    path("accounts/signup/", views.signup, name="signup"),
    path(
        "accounts/login/",
        declare(
            LoginView.as_view(),
            Kind.ACTION,
            "Log in",
            why=FORM_WHY + " Locked after repeated failures, per account and per address.",
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
            sudo_required(PasswordChangeView.as_view()),
            Kind.ACTION,
            "Change your password",
            why=FORM_WHY + " After re-authentication (sudo mode); the old password counts against the same "
            "lockout as logins. Signs out every other session and revokes the API tokens.",
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
                form_class=PasswordResetForm,
                template_name="accounts/password_reset.html",
                email_template_name="accounts/email/password_reset.txt",
                subject_template_name="accounts/email/password_reset_subject.txt",
                success_url=reverse_lazy("accounts:password_reset_done"),
                extra_email_context={"site_name": "Twofold"},
            ),
            Kind.ACTION,
            "Ask for a password reset email",
            why=FORM_WHY + " A few emails per address and per client address an hour.",
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
                form_class=SetPasswordForm,
                template_name="accounts/password_reset_confirm.html",
                success_url=reverse_lazy("accounts:password_reset_complete"),
            ),
            Kind.ACTION,
            "Set a new password from the emailed link",
            why=FORM_WHY + " Lifts the account's login lock.",
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
    path("accounts/reauth/", views.reauth, name="reauth"),
    *[
        path("accounts/login/verify/", views_security.login_verify, name="login_verify"),
        path("accounts/security/totp/", views_security.totp_setup, name="totp_setup"),
        path("accounts/security/totp/off/", views_security.totp_turn_off, name="totp_turn_off"),
        path("accounts/security/recovery-codes/", views_security.recovery_codes, name="recovery_codes"),
        path(
            "accounts/security/recovery-codes/download/",
            views_security.recovery_codes_download,
            name="recovery_codes_download",
        ),
        path(
            "accounts/security/recovery-codes/new/",
            views_security.recovery_codes_regenerate,
            name="recovery_codes_regenerate",
        ),
        path(
            "accounts/security/passkeys/<id:passkey_id>/rename/",
            views_security.passkey_rename,
            name="passkey_rename",
        ),
        path(
            "accounts/security/passkeys/<id:passkey_id>/remove/",
            views_security.passkey_delete,
            name="passkey_delete",
        ),
        path(
            "accounts/passkeys/register/options/",
            passkeys_api.PasskeyRegisterOptionsApi.as_view(),
            name="passkey_register_options",
        ),
        path(
            "accounts/passkeys/register/verify/",
            passkeys_api.PasskeyRegisterVerifyApi.as_view(),
            name="passkey_register_verify",
        ),
        path(
            "accounts/passkeys/auth/options/",
            passkeys_api.PasskeyAuthOptionsApi.as_view(),
            name="passkey_auth_options",
        ),
        path(
            "accounts/passkeys/auth/verify/",
            passkeys_api.PasskeyAuthVerifyApi.as_view(),
            name="passkey_auth_verify",
        ),
    ],
    path("dashboard/profile/", views.profile_edit, name="profile_edit"),
    path("dashboard/tokens/", views.token_list, name="token_list"),
    path("dashboard/tokens/<id:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("accounts/verify/resend/", views.email_verify_resend, name="email_verify_resend"),
    path("accounts/verify/<str:token>/", views.email_verify, name="email_verify"),
    path("accounts/email/", views.email_change, name="email_change"),
    path("accounts/security/", views.security, name="security"),
    path("accounts/sessions/<id:session_id>/sign-out/", views.session_end, name="session_end"),
    path("accounts/sessions/sign-out-others/", views.sessions_end_others, name="sessions_end_others"),
    path("accounts/export/", views.data_export, name="data_export"),
    path("accounts/delete/", views.account_delete_view, name="account_delete"),
]
