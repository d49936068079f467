import copy
import json
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import reswap

from accounts import sessions, verification
from accounts.forms import (
    AccountDeleteForm,
    ApiTokenForm,
    EmailChangeForm,
    ProfileForm,
    ReauthForm,
    SignupForm,
)
from accounts.oauth import oauth_client, providers, redirect_uri
from accounts.services import account_delete, account_export, client_ip, signup_allowed
from accounts.signals import DeletionRefused
from accounts.sudo import sudo_grant, sudo_required, sudo_seconds
from accounts.tokens import TeamNotFound, TokenLimitReached, api_token_create, api_token_revoke
from accounts.views_security import security_context
from core.flags import flag_is_active
from core.operations import Kind, operation
from core.types import AuthedHttpRequest


@operation(
    "Sign up",
    why="A form on our own page; must work without JavaScript.",
    methods=["GET", "POST"],
    public=True,
)
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    if not flag_is_active("signups"):
        # Staff closed sign-ups: say so, and refuse a POST from a page loaded before they did.
        status = 403 if request.method == "POST" else 200
        return render(request, "accounts/signup.html", {"closed": True}, status=status)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not signup_allowed(ip=client_ip(request.META)):
            form.add_error(
                None, "Too many accounts were created from your network in the last hour. Try later."
            )
            return render(request, "accounts/signup.html", {"form": form}, status=429)
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        verification.verification_send(user=user)
        messages.success(
            request, f"Welcome to Twofold, {user.name}! We emailed you a link to confirm your address."
        )
        return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "accounts/signup.html", {"form": form})


@operation(
    "Update your profile",
    why="Called from our own page; works as a plain form POST and swaps a partial under htmx.",
    methods=["GET", "POST"],
)
def profile_edit(request: AuthedHttpRequest) -> HttpResponse:
    """The first action: a plain form POST with POST/redirect/GET, or an htmx swap of the form."""
    # A copy, so an invalid submission never leaks into the name shown in the navigation.
    form = ProfileForm(request.POST or None, instance=copy.copy(request.user))
    if request.method == "POST" and form.is_valid():
        user = form.save()
        messages.success(request, "Profile saved.")
        if not request.htmx:
            return redirect("accounts:profile_edit")
        request.user = user
        if "redraw" in request.POST:
            # The form on the page shows the last try's errors: draw it again, without them.
            form = ProfileForm(instance=copy.copy(user))
            return render(request, "accounts/profile.html#profile-form", {"form": form, "saved": True})
        # Only what changed: the status, the name in the navigation and the toast (out of band). The
        # form already shows what was saved; redrawing it (600 time zones, 32 KB) was most of the time.
        return reswap(render(request, "accounts/profile.html#profile-saved"), "none")
    template = "accounts/profile.html"
    if request.htmx:
        template += "#profile-form"
    return render(request, template, {"form": form})


NEW_TOKEN_SESSION_KEY = "accounts:new-api-token"


def _tokens_context(
    request: AuthedHttpRequest, form: ApiTokenForm, new_token: str | None
) -> dict[str, object]:
    return {
        "form": form,
        "tokens": request.user.api_tokens.active().select_related("team"),
        "new_token": new_token,
        "email_unverified_message": verification.EMAIL_UNVERIFIED_MESSAGE,
    }


@operation(
    "Create an API token",
    why="Made by a person on our page; the secret is shown once, in the page, with or without JavaScript. "
    "Needs a confirmed email address and a recent re-authentication (sudo mode).",
    methods=["GET", "POST"],
)
def token_list(request: AuthedHttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _token_create(request)
    new_token: str | None = request.session.pop(NEW_TOKEN_SESSION_KEY, None)
    return _tokens_render(request, ApiTokenForm(user=request.user), new_token)


def _tokens_render(request: AuthedHttpRequest, form: ApiTokenForm, new_token: str | None) -> HttpResponse:
    template = "accounts/tokens.html"
    if request.htmx:
        template += "#tokens"
    return render(request, template, _tokens_context(request, form, new_token))


@sudo_required
def _token_create(request: AuthedHttpRequest) -> HttpResponse:
    # A token is a lasting second way into the account: only with a proven address, and after proof
    # that the person at the keyboard is its owner (the page itself is open to look at).
    form = ApiTokenForm(request.POST, user=request.user)
    new_token: str | None = None
    if not verification.email_verified(request.user):
        form.add_error(None, verification.EMAIL_UNVERIFIED_MESSAGE)
    elif form.is_valid():
        try:
            _, new_token = api_token_create(
                user=request.user, name=form.cleaned_data["name"], team_id=form.cleaned_data["team"]
            )
        except (TeamNotFound, TokenLimitReached) as refusal:
            form.add_error(None, str(refusal))
        else:
            messages.success(request, "Token created. Copy it now: it will not be shown again.")
            if not request.htmx:
                # The secret survives the redirect in the session, once, and is removed when shown.
                request.session[NEW_TOKEN_SESSION_KEY] = new_token
                return redirect("accounts:token_list")
            form = ApiTokenForm(user=request.user)
    return _tokens_render(request, form, new_token)


@operation(
    "Revoke an API token",
    why="A button on our page; clients using the token get 401 from then on.",
    methods=["POST"],
)
def token_revoke(request: AuthedHttpRequest, token_id: int) -> HttpResponse:
    if api_token_revoke(user=request.user, token_id=token_id):
        messages.success(request, "Token revoked.")
    if request.POST.get("back") == "security":  # the same button on the security page
        return _security_sessions_answer(request)
    if not request.htmx:
        return redirect("accounts:token_list")
    form = ApiTokenForm(user=request.user)
    return render(request, "accounts/tokens.html#tokens", _tokens_context(request, form, None))


@operation(
    "Sign in with GitHub, Google or OpenID Connect",
    why="A button on our login page; it starts the provider's redirect (state and PKCE kept in the session).",
    kind=Kind.ACTION,  # a GET, yet it starts a sign-in
    public=True,
)
def oauth_login_start(request: HttpRequest, provider: str) -> HttpResponse:
    client = oauth_client(provider)
    if client is None:
        raise Http404("Unknown sign-in provider.")
    return client.authorize_redirect(request, redirect_uri(provider))  # type: ignore[no-any-return]


@operation(
    "Confirm it is you (sudo mode)",
    why="A form on our own page, asked before a sensitive action; works without JavaScript.",
    methods=["GET", "POST"],
)
def reauth(request: AuthedHttpRequest) -> HttpResponse:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = ""
    form = ReauthForm(request.POST or None, user=request.user, request=request)
    if request.method == "POST" and request.user.has_usable_password() and form.is_valid():
        sudo_grant(request)
        return redirect(next_url or settings.LOGIN_REDIRECT_URL)
    context = {
        "form": form,
        "next": next_url,
        "minutes": sudo_seconds() // 60,
        "has_password": request.user.has_usable_password(),
        "oauth_providers": providers(),
    }
    return render(request, "accounts/reauth.html", context)


# Email verification -----------------------------------------------------------------------------


@operation(
    "Confirm an email address from the emailed link",
    why="A link in an email opens our page; the button on it (a form POST) confirms, so a mail scanner "
    "that follows links changes nothing. Works signed in or not: the signed link is the proof.",
    methods=["GET", "POST"],
    public=True,
)
def email_verify(request: HttpRequest, token: str) -> HttpResponse:
    try:
        target = verification.verification_read(token)
    except verification.LinkInvalid as invalid:
        return render(request, "accounts/email_verify.html", {"error": str(invalid)}, status=400)
    if request.method == "POST":
        try:
            target = verification.verification_confirm(token)
        except (verification.LinkInvalid, verification.AddressTaken) as refusal:
            return render(request, "accounts/email_verify.html", {"error": str(refusal)}, status=400)
        messages.success(request, f"Thank you: {target.email} is confirmed.")
        if request.user.is_authenticated and request.user.pk == target.user.pk:
            return redirect("accounts:security" if target.email != request.user.email else "core:dashboard")
        return redirect("accounts:login")
    return render(request, "accounts/email_verify.html", {"target": target})


@operation(
    "Resend the email confirmation link",
    why="The button in the banner; swaps the banner under htmx, redirects back without JavaScript. "
    "A few emails an hour per account.",
    methods=["POST"],
)
def email_verify_resend(request: AuthedHttpRequest) -> HttpResponse:
    state = "verified"
    if not verification.email_verified(request.user):
        if verification.sends_allowed(user=request.user):
            verification.verification_send(user=request.user)
            state = "sent"
        else:
            state = "limited"
    if request.htmx:
        return render(request, "accounts/_verify_banner.html", {"resend": state})
    if state == "sent":
        messages.success(request, f"We sent a new link to {request.user.email}.")
    elif state == "limited":
        messages.error(
            request, "We sent you several links already. Try again in an hour, or check your spam folder."
        )
    return redirect(_back(request))


def _back(request: HttpRequest) -> str:
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return str(settings.LOGIN_REDIRECT_URL)


@operation(
    "Change your email address",
    why="A form on our own page, after re-authentication (sudo mode); the new address gets a link and "
    "replaces the old one only when it is opened. Works without JavaScript.",
    methods=["GET", "POST"],
)
@sudo_required
def email_change(request: AuthedHttpRequest) -> HttpResponse:
    form = EmailChangeForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        new_email = form.cleaned_data["email"]
        if verification.sends_allowed(user=request.user):
            verification.email_change_send(user=request.user, new_email=new_email)
            messages.success(request, f"We sent a link to {new_email}. Open it to make it your address.")
            return redirect("accounts:profile_edit")
        form.add_error(None, "We sent you several links already. Try again in an hour.")
    return render(request, "accounts/email_change.html", {"form": form})


# The security page --------------------------------------------------------------------------------


def _security_sessions_context(request: AuthedHttpRequest) -> dict[str, object]:
    current = request.session.session_key
    rows = sessions.sessions_active(user=request.user)
    return {
        "sessions": [
            {
                "id": row.pk,
                "device": sessions.device_label(row.user_agent),
                "mobile": sessions.device_is_mobile(row.user_agent),
                "ip": row.ip,
                "created_at": row.created_at,
                "last_seen_at": row.last_seen_at,
                "recent": timezone.now() - row.last_seen_at < timedelta(minutes=2),
                "current": row.session_key == current,
            }
            for row in sorted(rows, key=lambda row: row.session_key != current)
        ],
        "tokens": request.user.api_tokens.active(),
        "others": sum(1 for row in rows if row.session_key != current),
    }


def _security_sessions_answer(request: AuthedHttpRequest) -> HttpResponse:
    if not request.htmx:
        return redirect("accounts:security")
    return render(request, "accounts/_security_sessions.html", _security_sessions_context(request))


@operation(
    "Security",
    why="Shows how the account is protected: two-factor, passkeys, sessions, your data; changes nothing.",
)
def security(request: AuthedHttpRequest) -> HttpResponse:
    context = {
        **_security_sessions_context(request),
        **security_context(request),
        "email_verified": verification.email_verified(request.user),
    }
    return render(request, "accounts/security.html", context)


@operation(
    "Sign out one of your sessions",
    why="A button in the sessions list; the browser holding that session is signed out at its next request.",
    methods=["POST"],
    try_at="accounts:security",
)
def session_end(request: AuthedHttpRequest, session_id: int) -> HttpResponse:
    if sessions.session_end(user=request.user, session_id=session_id, keep=request.session.session_key):
        messages.success(request, "That session is signed out.")
    return _security_sessions_answer(request)


@operation(
    "Sign out all your other sessions",
    why="A button on the security page; every browser but this one is signed out.",
    methods=["POST"],
    try_at="accounts:security",
)
def sessions_end_others(request: AuthedHttpRequest) -> HttpResponse:
    ended = sessions.sessions_end_others(user=request.user, keep=request.session.session_key)
    messages.success(request, f"Signed out {ended} other session{'s' if ended != 1 else ''}.")
    return _security_sessions_answer(request)


# Your data ----------------------------------------------------------------------------------------


@operation(
    "Export your data",
    why="A download link on the security page: a JSON file of your profile, tokens' names, sessions and "
    "what each installed app holds for you (posts, conversations). Changes nothing.",
)
def data_export(request: AuthedHttpRequest) -> HttpResponse:
    data = account_export(user=request.user)
    response = HttpResponse(json.dumps(data, indent=2, ensure_ascii=False), content_type="application/json")
    stamp = timezone.now().strftime("%Y-%m-%d")
    response["Content-Disposition"] = f'attachment; filename="twofold-export-{stamp}.json"'
    response["Cache-Control"] = "no-store"
    return response


@operation(
    "Delete your account",
    why="A form on our own page, after re-authentication (sudo mode), confirmed by typing your address; "
    "works without JavaScript. Installed apps may refuse first (accounts.signals.account_deleting).",
    methods=["GET", "POST"],
)
@sudo_required
def account_delete_view(request: AuthedHttpRequest) -> HttpResponse:
    form = AccountDeleteForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            account_delete(user=request.user)
        except DeletionRefused as refusal:
            form.add_error(None, str(refusal))
        else:
            logout(request)
            messages.success(request, "Your account and its data are deleted. Goodbye, and thank you.")
            return redirect("core:landing")
    return render(request, "accounts/account_delete.html", {"form": form})
