"""Helpers for the test suites."""

import html
from urllib.parse import urlsplit, urlunsplit


def text(response) -> str:
    """The response's HTML with entities decoded (« d&#x27;usage » → « d'usage »)."""
    return html.unescape(response.content.decode())


def worker_broker_url(broker_url: str, worker: str) -> str:
    """The Celery broker URL of one pytest-xdist worker: its own Redis database (gw0 → 1,
    gw1 → 2, …), so a task queued by one worker is never consumed by another one's Celery process.

    Kombu takes the database as the path of a TCP URL (``redis://host:6379/2``) and as the
    ``virtual_host`` query parameter of a unix-socket URL (``redis+socket:///path?virtual_host=2``)."""
    db = int(worker.removeprefix("gw")) + 1
    if db > 15:  # Redis has 16 databases (0 to 15) unless configured otherwise
        raise RuntimeError(f"Trop de processus de test pour Redis ({worker}) : lancez-en au plus 15 (PYTEST_WORKERS).")
    if broker_url.startswith("redis+socket://"):
        base, _, query = broker_url.partition("?")
        params = [p for p in query.split("&") if p and not p.startswith("virtual_host=")]
        return f"{base}?{'&'.join([*params, f'virtual_host={db}'])}"
    return urlunsplit(urlsplit(broker_url)._replace(path=f"/{db}"))
