"""Health for load balancers and the operations team: /sante/ (alias /healthz) and /sante/vivant/.

Liveness answers as long as the process does. Readiness tries each dependency and reports its
status and latency in JSON; it answers 503 when one that is needed to serve a page is down
(PostgreSQL, Redis, the private files storage). The Celery beat heartbeat is reported too but
does not take a web node out: a stuck scheduler is an alert for the team, not a reason to stop
serving pages. No URL, host name, message or secret appears in the body: only the exception's
class name.

(django-health-check was the kept library for this; its releases for Django 5.2 need Python
3.14, and its JSON does not carry latencies, so this is a small module of our own.)
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import redis
from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import connections, transaction
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

BEAT_HEARTBEAT_KEY = "cpf:ops:beat-heartbeat"
TIMEOUT_SECONDS = 2


def redis_client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS)


class CheckFailed(Exception):
    """A dependency answered, but not as it should (the message is ours, safe to show)."""


def check_database() -> None:
    """A new connection (not the request's), as a new worker would open one."""
    params = connections["default"].get_connection_params()
    keep = {"dbname", "host", "port", "user", "password", "sslmode", "sslrootcert", "sslcert", "sslkey", "options", "service", "passfile"}
    with psycopg.connect(**{key: value for key, value in params.items() if key in keep}, connect_timeout=TIMEOUT_SECONDS) as conn:
        conn.execute("SELECT 1")


def check_redis() -> None:
    client = redis_client()
    try:
        client.ping()
    finally:
        client.close()


def check_storage() -> None:
    if isinstance(default_storage, FileSystemStorage):
        location = Path(default_storage.location)
        try:
            location.mkdir(parents=True, exist_ok=True)  # as the storage does on the first upload
        except OSError:
            raise CheckFailed("dossier des fichiers privés impossible à créer") from None
        if not os.access(location, os.W_OK):
            raise CheckFailed("dossier des fichiers privés absent ou non inscriptible")
    else:  # an object store: one round trip
        default_storage.exists("sante/.sonde")


def beat_heartbeat_record() -> None:
    client = redis_client()
    try:
        client.set(BEAT_HEARTBEAT_KEY, str(time.time()))
    finally:
        client.close()


def beat_heartbeat_age() -> float | None:
    client = redis_client()
    try:
        raw = client.get(BEAT_HEARTBEAT_KEY)
    finally:
        client.close()
    return None if raw is None else max(0.0, time.time() - float(raw))


def _timed(check: Callable[[], None]) -> dict:
    started = time.perf_counter()
    try:
        check()
    except CheckFailed as error:
        result = {"status": "error", "error": str(error)}
    except Exception as error:  # any failure of the dependency; its message may name hosts
        result = {"status": "error", "error": type(error).__name__}
    else:
        result = {"status": "ok"}
    result["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def _beat() -> dict:
    started = time.perf_counter()
    try:
        age = beat_heartbeat_age()
    except Exception as error:
        result = {"status": "unknown", "error": type(error).__name__}
    else:
        if age is None:
            result = {"status": "unknown", "error": "aucun battement enregistré"}
        else:
            fresh = age <= settings.HEALTH_BEAT_MAX_AGE_SECONDS
            result = {"status": "ok" if fresh else "stale", "age_seconds": round(age)}
    result["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


CRITICAL_CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "redis": check_redis,
    "storage": check_storage,
}


def readiness() -> tuple[int, dict]:
    checks = {name: {**_timed(check), "critical": True} for name, check in CRITICAL_CHECKS.items()}
    checks["celery_beat"] = {**_beat(), "critical": False}
    down = [name for name, result in checks.items() if result["critical"] and result["status"] != "ok"]
    degraded = [name for name, result in checks.items() if not result["critical"] and result["status"] != "ok"]
    status = "error" if down else "degraded" if degraded else "ok"
    body = {"status": status, "time": timezone.now().isoformat(), "checks": checks}
    return (503 if down else 200), body


# Health views open no transaction (ATOMIC_REQUESTS would need the database before the check).
@transaction.non_atomic_requests
@never_cache
@require_safe
def ready(request):
    status, body = readiness()
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


@transaction.non_atomic_requests
@never_cache
@require_safe
def alive(request):
    return JsonResponse({"status": "ok", "time": timezone.now().isoformat()})
