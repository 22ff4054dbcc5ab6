"""Logs an operations team can follow and a DPO can accept.

- ``RequestIdMiddleware`` takes the caller's ``X-Request-ID`` (a load balancer's) or makes one,
  returns it in the response, and writes one access line per request (route, not raw path: a
  path can carry a reset token).
- ``ContextFilter`` stamps every record with that request id and, once the request has loaded
  its user, the user's id and role (never the e-mail or the NIR).
- The request id travels to the Celery tasks the request queues, in a task header
  (``before_task_publish``), and is restored in the worker (``task_prerun``).
- ``ScrubFilter`` removes what must never be written: NIR-like and card-like numbers, 6-digit
  codes after a known field name, tokens, passwords and bearer credentials.
"""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid

from celery.signals import before_task_publish, task_postrun, task_prerun

access_logger = logging.getLogger("cpf_portal.access")

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
request_var: contextvars.ContextVar[object | None] = contextvars.ContextVar("request", default=None)

REQUEST_ID_HEADER = "X-Request-ID"
TASK_HEADER = "cpf_request_id"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def new_request_id() -> str:
    return uuid.uuid4().hex


def clean_request_id(value: str | None) -> str:
    """The caller's id when it looks like one, else a new one (a header is user input)."""
    if value and _VALID_REQUEST_ID.match(value):
        return value
    return new_request_id()


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = clean_request_id(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id
        id_token = request_id_var.set(request_id)
        request_token = request_var.set(request)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            match = getattr(request, "resolver_match", None)
            access_logger.info(
                "requête traitée",
                extra={
                    "method": request.method,
                    "route": f"/{match.route}" if match else None,
                    "view": match.view_name if match else None,
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                },
            )
            return response
        finally:
            request_var.reset(request_token)
            request_id_var.reset(id_token)


def _current_user():
    """The request's user if the request already loaded it (no query of our own)."""
    request = request_var.get()
    user = getattr(request, "_cached_user", None) if request is not None else None
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get() or "-"
        user = _current_user()
        if not hasattr(record, "user_id"):
            record.user_id = user.pk if user else None
        if not hasattr(record, "user_role"):
            record.user_role = getattr(user, "role", None) if user else None
        return True


# --- Scrubbing ------------------------------------------------------------------------------
_SECRET_FIELDS = r"(?:password|passwd|mot_de_passe|token|secret|api[_-]?key|authorization|sessionid|csrftoken|csrfmiddlewaretoken|cookie)"
_CODE_FIELDS = r"(?:code|otp|activation_code|verification_code|code_activation)"
_PATTERNS = [
    # Bearer credentials.
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 [masqué]"),
    # key=value, key: value, "key": "value" for secret-bearing names.
    (re.compile(rf"""(?i)(["']?\b\w*{_SECRET_FIELDS}\w*["']?\s*[:=]\s*["']?)[^"'\s,;&}}]+"""), r"\1[masqué]"),
    # A 6-digit code after a known field name.
    (re.compile(rf"""(?i)(["']?\b\w*{_CODE_FIELDS}["']?\s*[:=]\s*["']?)\d{{6}}\b"""), r"\1[masqué]"),
    # NIR: sex, year, month, département (2A/2B for Corsica), commune, order, optional key; spaces allowed.
    (re.compile(r"(?i)\b[1-478]\s?\d{2}\s?(?:0[1-9]|1[0-2]|[2-9]\d)\s?(?:\d{2}|2a|2b)\s?\d{3}\s?\d{3}(?:\s?\d{2})?\b"), "[NIR masqué]"),
    # Card-like numbers: 13 to 19 digits, with optional spaces or dashes.
    (re.compile(r"\b\d(?:[ -]?\d){12,18}\b"), "[numéro masqué]"),
]


def scrub(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


_SENSITIVE_EXTRA = re.compile(rf"(?i){_SECRET_FIELDS}|^nir$|^{_CODE_FIELDS}$|card|carte")
_STANDARD_ATTRS = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class ScrubFilter(logging.Filter):
    """Rewrites the record in place, so every handler and formatter sees the scrubbed text."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the line
            message = str(record.msg)
        record.msg, record.args = scrub(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
            record.exc_info = None  # the formatter uses the scrubbed exc_text
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        for key, value in list(record.__dict__.items()):
            if key in _STANDARD_ATTRS:
                continue
            if _SENSITIVE_EXTRA.search(key):
                record.__dict__[key] = "[masqué]"
            elif isinstance(value, str):
                record.__dict__[key] = scrub(value)
        return True


# --- Celery: the request id follows the tasks a request queues ----------------------------------
@before_task_publish.connect(dispatch_uid="cpf_request_id_publish")
def _add_request_id_header(sender=None, headers=None, **kwargs):
    request_id = request_id_var.get()
    if request_id and headers is not None and TASK_HEADER not in headers:
        headers[TASK_HEADER] = request_id


_task_tokens: dict[str, contextvars.Token] = {}


@task_prerun.connect(dispatch_uid="cpf_request_id_prerun")
def _restore_request_id(task_id=None, task=None, **kwargs):
    request_id = getattr(task.request, TASK_HEADER, None) if task is not None else None
    if not request_id and task is not None and task.request.is_eager:
        # An eager task (tests, CELERY_TASK_ALWAYS_EAGER) runs inside the request: keep its id.
        return
    _task_tokens[task_id] = request_id_var.set(clean_request_id(request_id))


@task_postrun.connect(dispatch_uid="cpf_request_id_postrun")
def _forget_request_id(task_id=None, **kwargs):
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        request_id_var.reset(token)
