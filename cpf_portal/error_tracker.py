"""The optional error tracker (SENTRY_DSN): errors reach the team, personal data does not.

send_default_pii stays False (no user e-mail, no IP address, no cookies); ``before_send``
drops request bodies, cookies, query strings and headers that carry credentials, and scrubs
NIR-like numbers, card numbers, codes and tokens from every string of the event.
"""

from __future__ import annotations

from typing import Any

from cpf_portal.logs import scrub

_DROPPED_HEADERS = {"authorization", "cookie", "x-csrftoken", "proxy-authorization"}


def _scrub_value(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {key: _scrub_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub_value(item) for item in value]
    return value


def before_send(event: dict, hint: dict | None = None) -> dict:
    request = event.get("request")
    if isinstance(request, dict):
        for key in ("data", "cookies", "query_string", "env"):
            request.pop(key, None)
        headers = request.get("headers")
        if isinstance(headers, dict):
            request["headers"] = {name: value for name, value in headers.items() if name.lower() not in _DROPPED_HEADERS}
    user = event.get("user")
    if isinstance(user, dict):
        # Only the id: never the e-mail, the name or the IP address.
        event["user"] = {"id": user["id"]} if "id" in user else {}
    return _scrub_value(event)


def init_sentry(*, dsn: str, environment: str) -> None:
    import sentry_sdk
    from django.core.exceptions import ImproperlyConfigured
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.utils import BadDsn, Dsn

    try:
        Dsn(dsn)
    except BadDsn as error:
        raise ImproperlyConfigured(f"SENTRY_DSN invalide : {error}") from None
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        send_default_pii=False,
        max_request_body_size="never",
        include_local_variables=False,
        before_send=before_send,
        integrations=[DjangoIntegration(), CeleryIntegration()],
    )
