"""Queue a Celery task without ever failing the request that asks for it.

The database row (an outbox e-mail, a job's state) is the truth and the task only a nudge:
when the broker is down, the nudge is lost, the row stays, and a periodic job picks it up
(``notifications.services.requeue_stuck``). So a committed action never answers 500
because Redis is away."""

from __future__ import annotations

import logging

from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue(task, *args) -> bool:
    """Send ``task(*args)`` to the broker now; False (logged) when it cannot be reached."""
    try:
        task.apply_async(args=args)
    except Exception as exc:  # kombu OperationalError, redis ConnectionError, socket errors…
        logger.warning("Tâche %s non mise en file (%s) : elle sera reprise par la tâche de rattrapage.", task.name, type(exc).__name__)
        return False
    return True


def enqueue_on_commit(task, *args) -> None:
    """``enqueue`` once the current transaction commits (never if it rolls back)."""
    transaction.on_commit(lambda: enqueue(task, *args))
