"""What every action does when something the user did not cause goes wrong.

An action returns state and the page shows it. Field and form errors are state the view renders
into its form. A failure of our own (the database briefly unreachable, a deadlock, a lost
connection) is handled here once, for every action:

- the transaction the service opened has rolled back, so nothing changed;
- the error is logged with its traceback;
- under htmx the answer is a 200 carrying a friendly alert, inserted at the top of the element that
  made the request (`HX-Retarget: this`, `HX-Reswap: afterbegin`): the user's form and its input
  stay as they were, and htmx 2 swaps it (it would ignore a 5xx);
- without JavaScript the answer is a full page saying the same, with a 503 and a way back;
- both are rendered without the database (core.errors), which may be what failed.

    @action_errors
    @login_required
    def post_create(request): ...
"""

import functools
import logging
from collections.abc import Callable

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse

from core.errors import service_unavailable_response

logger = logging.getLogger("twofold.actions")

# Errors that are ours, not the user's, and pass: worth a "try again" rather than a 500.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (DatabaseError,)


def action_errors[**P](view: Callable[P, HttpResponse]) -> Callable[P, HttpResponse]:
    """Answer a transient server-side failure of an action with a friendly error, never a blank swap."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        try:
            return view(*args, **kwargs)
        except TRANSIENT_ERRORS:
            request = args[0]
            assert isinstance(request, HttpRequest)
            logger.exception("Action %s failed: %s %s", view.__name__, request.method, request.path)
            return action_error_response(request)

    return wrapper


def action_error_response(request: HttpRequest) -> HttpResponse:
    # The same answer as for a database error raised outside any action (core.errors.server_error).
    return service_unavailable_response(request)
