"""Helpers for the test suites."""

import html


def text(response) -> str:
    """The response's HTML with entities decoded (« d&#x27;usage » → « d'usage »)."""
    return html.unescape(response.content.decode())
