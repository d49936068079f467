"""Request types for views: django-htmx's `request.htmx` and, where a login is required, the user model.

The user type is `settings.AUTH_USER_MODEL` as django-stubs' mypy plugin reads it (`_User`), so the
platform names no app and a view behind a login needs no cast:

    @operation("Your posts", why="...")
    def post_list(request: AuthedHttpRequest) -> HttpResponse: ...      # request.user is the User

    class PostCreateApi(APIView):
        def post(self, request: AuthedRequest) -> Response: ...          # DRF, behind IsAuthenticated
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails
from rest_framework.request import Request

if TYPE_CHECKING:
    from django.contrib.auth.models import _User


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


class AuthedHttpRequest(HtmxHttpRequest):
    """A Django request behind `login_required` (every `@operation` view unless `public=True`)."""

    user: _User


class AuthedRequest(Request):
    """A DRF request behind `IsAuthenticated` (the API's default permission)."""

    user: _User  # narrower than Request.user's "or AnonymousUser": IsAuthenticated let it through
