"""Cross-cutting request handling."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import render

from .errors import UserFacingError
from .http import safe_local_url


class UserFacingErrorMiddleware:
    """The one place that turns a ``UserFacingError`` into an answer.

    The view's transaction has already rolled back (ATOMIC_REQUESTS) when this runs. A view
    may name the page the action was made from by setting ``request.error_page`` to a
    callable ``(status) -> HttpResponse``: the person then sees that page again, with the
    message on top, and the status says what happened (400 refused, 409 conflict). Without
    one, a plain page shows the message and a link back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, UserFacingError):
            return None
        messages.error(request, exception.message)
        page = getattr(request, "error_page", None)
        if page is not None:
            return page(exception.status_code)
        back = safe_local_url(request, request.headers.get("referer", ""))
        return render(request, "action_refused.html", {"message": exception.message, "back": back}, status=exception.status_code)
