"""What workers record for the metrics scrape (``cpf_portal.metrics``): task failures and the
last run of each periodic job, kept in Redis because the web process that answers the scrape
never sees the worker's events. Never fails its caller."""

from __future__ import annotations

import logging
import time

from cpf_portal.health import redis_client

logger = logging.getLogger(__name__)

TASK_FAILURES_KEY = "cpf:ops:task-failures"
JOB_RUNS_KEY = "cpf:ops:job-runs"


def count_task_failure(task_name: str) -> None:
    """Called by the worker on task_failure (cpf_portal/celery.py)."""
    try:
        client = redis_client()
        try:
            client.hincrby(TASK_FAILURES_KEY, task_name, 1)
        finally:
            client.close()
    except Exception:  # metrics never make a task fail twice
        logger.warning("échec de tâche non compté (Redis indisponible)")


def record_job_run(name: str, duration_seconds: float) -> None:
    """A periodic job's last duration and end time, for the scrape."""
    try:
        client = redis_client()
        try:
            client.hset(JOB_RUNS_KEY, mapping={f"{name}:duration": f"{duration_seconds:.6f}", f"{name}:finished": f"{time.time():.3f}"})
        finally:
            client.close()
    except Exception:
        logger.warning("durée du traitement %s non enregistrée (Redis indisponible)", name)
