"""Prometheus metrics at /metrics.

django-prometheus counts requests and latencies per view (its middlewares) and database
queries (its PostgreSQL backend). The business gauges below are computed when Prometheus
scrapes, from the database and Redis, so every web process reports the same figures:
dossiers per state, the e-mail outbox backlog, payment totals, Celery queue lengths, task
failures and the deadline job's last run. Worker-side events (task failures, job durations)
are written to Redis by the worker, because the web process that answers the scrape never
sees them.

Wiring, not a helper: the collector reads every app's models. What the worker records for
it (task failures, job runs) is in ``cpf_portal.jobstats``, which any app may call.

Access: ``Authorization: Bearer <METRICS_TOKEN>``, or a direct request from the loopback
address (no X-Forwarded-For: a request relayed by a local proxy is not local).
"""

from __future__ import annotations

import hmac
import logging
import time

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Min, Sum
from django.http import HttpResponse, HttpResponseForbidden
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from cpf_portal.health import BEAT_HEARTBEAT_KEY, redis_client
from cpf_portal.jobstats import JOB_RUNS_KEY, TASK_FAILURES_KEY

logger = logging.getLogger(__name__)

CELERY_QUEUES = ("celery",)
LOOPBACK = {"127.0.0.1", "::1"}


# --- Scrape side --------------------------------------------------------------------------------
class BusinessCollector:
    """Gauges computed at scrape time (one query per family)."""

    def describe(self):
        # Without it, registering would run collect() (and query the database) at import.
        return []

    def collect(self):
        for part in (self._dossiers, self._outbox, self._payments, self._redis_figures):
            try:
                yield from part()
            except Exception:
                # One source down must not hide the others (nor the HTTP/DB metrics).
                logger.warning("métriques %s indisponibles", part.__name__.strip("_"), exc_info=True)

    def _dossiers(self):
        from dossiers.models import Dossier

        counts = dict(Dossier.objects.values_list("status").annotate(n=Count("pk")).order_by())
        family = GaugeMetricFamily("cpf_dossiers", "Dossiers par état.", labels=["status"])
        # Every state, from the field's choices (zero included, so a rate never has gaps).
        for status, _label in Dossier._meta.get_field("status").choices:
            family.add_metric([status], counts.get(status, 0))
        yield family

    def _outbox(self):
        from notifications.models import Email

        queued = Email.objects.filter(status=Email.Status.QUEUED).aggregate(n=Count("pk"), oldest=Min("created_at"))
        yield GaugeMetricFamily("cpf_outbox_emails_queued", "Courriels en attente d'envoi.", value=queued["n"])
        age = (timezone.now() - queued["oldest"]).total_seconds() if queued["oldest"] else 0
        yield GaugeMetricFamily("cpf_outbox_oldest_queued_age_seconds", "Âge du plus ancien courriel en attente (secondes).", value=age)

    def _payments(self):
        from financing.models import Payment

        rows = {row["status"]: row for row in Payment.objects.values("status").annotate(n=Count("pk"), cents=Sum("amount_cents")).order_by()}
        count = GaugeMetricFamily("cpf_payments", "Paiements du reste à charge, par état.", labels=["status"])
        amount = GaugeMetricFamily("cpf_payments_amount_cents", "Montant des paiements, par état (centimes).", labels=["status"])
        for status in Payment.Status.values:
            row = rows.get(status, {"n": 0, "cents": 0})
            count.add_metric([status], row["n"])
            amount.add_metric([status], row["cents"] or 0)
        yield count
        yield amount

    def _redis_figures(self):
        client = redis_client()
        try:
            queues = GaugeMetricFamily("cpf_celery_queue_length", "Tâches Celery en attente, par file.", labels=["queue"])
            for queue in CELERY_QUEUES:
                queues.add_metric([queue], client.llen(queue))
            yield queues
            failures = CounterMetricFamily("cpf_celery_task_failures", "Tâches Celery en échec, par tâche.", labels=["task"])
            for task, n in sorted(client.hgetall(TASK_FAILURES_KEY).items()):
                failures.add_metric([task.decode()], int(n))
            yield failures
            runs = {key.decode(): float(value) for key, value in client.hgetall(JOB_RUNS_KEY).items()}
            duration = GaugeMetricFamily("cpf_job_last_duration_seconds", "Durée du dernier passage d'un traitement périodique.", labels=["job"])
            finished = GaugeMetricFamily("cpf_job_last_finished_timestamp_seconds", "Fin du dernier passage (epoch).", labels=["job"])
            for key, value in sorted(runs.items()):
                job, _, what = key.rpartition(":")
                (duration if what == "duration" else finished).add_metric([job], value)
            yield duration
            yield finished
            beat = client.get(BEAT_HEARTBEAT_KEY)
            if beat is not None:
                yield GaugeMetricFamily(
                    "cpf_celery_beat_heartbeat_age_seconds", "Âge du dernier battement de Celery beat.", value=time.time() - float(beat)
                )
        finally:
            client.close()


_collector = BusinessCollector()
REGISTRY.register(_collector)


def _allowed(request) -> bool:
    if settings.METRICS_TOKEN:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), settings.METRICS_TOKEN.encode()):
            return True
    return request.META.get("REMOTE_ADDR") in LOOPBACK and "X-Forwarded-For" not in request.headers


@transaction.non_atomic_requests
@never_cache
@require_safe
def metrics_view(request):
    if not _allowed(request):
        return HttpResponseForbidden("Accès réservé à la supervision.", content_type="text/plain; charset=utf-8")
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
