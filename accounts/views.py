import copy

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.forms import ApiTokenForm, ProfileForm, SignupForm
from accounts.oauth import oauth_client, redirect_uri
from accounts.tokens import api_token_create, api_token_revoke
from core.actions import action_errors
from core.operations import Kind, operation
from core.types import AuthedHttpRequest
from staff.flags import flag_is_active


@operation(Kind.ACTION, "Sign up", why="A form on our own page; must work without JavaScript.")
@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    if not flag_is_active("signups"):
        # Staff closed sign-ups: say so, and refuse a POST from a page loaded before they did.
        status = 403 if request.method == "POST" else 200
        return render(request, "accounts/signup.html", {"closed": True}, status=status)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome to Twofold, {user.name}!")
        return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "accounts/signup.html", {"form": form})


@operation(
    Kind.ACTION,
    "Update your profile",
    why="Called from our own page; works as a plain form POST and swaps a partial under htmx.",
)
@action_errors
@login_required
@require_http_methods(["GET", "POST"])
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
        form = ProfileForm(instance=copy.copy(user))
        return render(request, "accounts/profile.html#profile-form", {"form": form, "saved": True})
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
        "tokens": request.user.api_tokens.active(),
        "new_token": new_token,
    }


@operation(
    Kind.ACTION,
    "Create an API token",
    why="Made by a person on our page; the secret is shown once, in the page, with or without JavaScript.",
)
@login_required
@require_http_methods(["GET", "POST"])
def token_list(request: AuthedHttpRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST or None, user=request.user)
    new_token: str | None = request.session.pop(NEW_TOKEN_SESSION_KEY, None)
    if request.method == "POST" and form.is_valid():
        _, new_token = api_token_create(user=request.user, name=form.cleaned_data["name"])
        messages.success(request, "Token created. Copy it now: it will not be shown again.")
        if not request.htmx:
            # The secret survives the redirect in the session, once, and is removed when shown.
            request.session[NEW_TOKEN_SESSION_KEY] = new_token
            return redirect("accounts:token_list")
        form = ApiTokenForm(user=request.user)
    template = "accounts/tokens.html"
    if request.htmx:
        template += "#tokens"
    return render(request, template, _tokens_context(request, form, new_token))


@operation(
    Kind.ACTION,
    "Revoke an API token",
    why="A button on our page; clients using the token get 401 from then on.",
)
@login_required
@require_POST
def token_revoke(request: AuthedHttpRequest, token_id: int) -> HttpResponse:
    if api_token_revoke(user=request.user, token_id=token_id):
        messages.success(request, "Token revoked.")
    if not request.htmx:
        return redirect("accounts:token_list")
    form = ApiTokenForm(user=request.user)
    return render(request, "accounts/tokens.html#tokens", _tokens_context(request, form, None))


@operation(
    Kind.ACTION,
    "Sign in with GitHub, Google or OpenID Connect",
    why="A button on our login page; it starts the provider's redirect (state and PKCE kept in the session).",
)
@require_GET
def oauth_login_start(request: HttpRequest, provider: str) -> HttpResponse:
    client = oauth_client(provider)
    if client is None:
        raise Http404("Unknown sign-in provider.")
    return client.authorize_redirect(request, redirect_uri(provider))  # type: ignore[no-any-return]
