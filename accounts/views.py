import copy

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.forms import ProfileForm, SignupForm
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
