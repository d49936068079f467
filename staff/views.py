"""The staff panel's frame and the platform's own tabs: feature flags and the audit log.

The other tabs belong to the apps whose data they show (post moderation to posts, webhook events to
billing), which add them with `menu_add("staff_tabs", ...)`; their views take `@operation(..., staff=True)`.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from core.flags import DEFAULTS, KNOWN_FLAGS, FlagSpec
from core.models import AuditEntry, Flag
from core.operations import operation
from core.registry import menu
from core.types import AuthedHttpRequest
from staff.forms import FlagMessageForm
from staff.services import flag_message_set, flag_set

AUDIT_PER_PAGE = 30


@operation("Staff panel", why="The panel's front door: opens its first tab.", staff=True)
def staff_home(request: AuthedHttpRequest) -> HttpResponse:
    tabs = menu("staff_tabs", request)
    target = tabs[0].url if tabs else reverse("staff:flag_list")
    query = request.GET.urlencode()  # an old bookmark of a search (/staff/?q=…) keeps its search
    return redirect(f"{target}?{query}" if query else target)


# --- Feature flags ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FlagRow:
    spec: FlagSpec
    flag: Flag | None
    submitted: FlagMessageForm | None = None  # a rejected message, shown with its errors

    @property
    def enabled(self) -> bool:
        return self.flag.enabled if self.flag else self.spec.default

    @property
    def message(self) -> str:
        return self.flag.message if self.flag else ""

    @property
    def message_form(self) -> FlagMessageForm | None:
        if not self.spec.has_message:
            return None
        return self.submitted or FlagMessageForm(initial={"message": self.message})


def _flag_rows(submitted: FlagMessageForm | None = None) -> list[FlagRow]:
    flags = {flag.name: flag for flag in Flag.objects.select_related("updated_by")}
    return [
        FlagRow(spec, flags.get(spec.name), submitted if spec.has_message else None) for spec in KNOWN_FLAGS
    ]


def _flag_row(name: str, submitted: FlagMessageForm | None = None) -> FlagRow:
    flag = Flag.objects.select_related("updated_by").filter(name=name).first()
    return FlagRow(DEFAULTS[name], flag, submitted)


def _known(name: str) -> str:
    if name not in DEFAULTS:
        raise Http404("No such flag.")
    return name


@operation("Staff: feature flags", why="Shows every flag with its switch.", staff=True)
def staff_flag_list(request: AuthedHttpRequest) -> HttpResponse:
    return render(request, "staff/flags.html", {"rows": _flag_rows()})


def _flag_row_response(
    request: AuthedHttpRequest, name: str, submitted: FlagMessageForm | None = None
) -> HttpResponse:
    # The banner is swapped out of band too, so the staff member sees the change on this very page.
    return render(request, "staff/flags.html#flag-row-with-banner", {"row": _flag_row(name, submitted)})


@operation(
    "Staff: turn a feature flag on or off",
    why="A switch on our staff page; the POST carries the wanted state, so a replay changes nothing.",
    methods=["POST"],
    staff=True,
    try_at="staff:flag_list",
)
def staff_flag_toggle(request: AuthedHttpRequest, name: str) -> HttpResponse:
    name = _known(name)
    enabled = request.POST.get("enabled") == "on"
    flag_set(actor=request.user, name=name, enabled=enabled)
    messages.success(request, f"{DEFAULTS[name].label}: {'on' if enabled else 'off'}.")
    if request.htmx:
        return _flag_row_response(request, name)
    return redirect("staff:flag_list")


@operation(
    "Staff: edit the maintenance banner's message",
    why="A form on our staff page; errors come back inside the form, with or without JavaScript.",
    methods=["POST"],
    staff=True,
    try_at="staff:flag_list",
)
def staff_flag_message(request: AuthedHttpRequest, name: str) -> HttpResponse:
    name = _known(name)
    form = FlagMessageForm(request.POST)
    if form.is_valid():
        flag_message_set(actor=request.user, name=name, message=form.cleaned_data["message"])
        messages.success(request, "Banner message saved.")
        if not request.htmx:
            return redirect("staff:flag_list")
        return _flag_row_response(request, name)
    if request.htmx:
        return _flag_row_response(request, name, form)
    return render(request, "staff/flags.html", {"rows": _flag_rows(form)})


# --- Audit log --------------------------------------------------------------------------------


@operation("Staff: audit log", why="Who did what, newest first; changes nothing.", staff=True)
def staff_audit_list(request: AuthedHttpRequest) -> HttpResponse:
    page = Paginator(AuditEntry.objects.all(), AUDIT_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "staff/audit.html", {"page": page})
