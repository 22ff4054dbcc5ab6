"""Celery application: tasks are autodiscovered in each app's tasks.py.

The periodic schedule is declared here, in code, and django-celery-beat's DatabaseScheduler
copies it into the database at start-up, where operators can see, pause or run a job from
the Django admin (« Periodic tasks »).
"""

import os

from celery import Celery
from celery.schedules import crontab
from celery.signals import task_failure

# Carries the request id from the request to the tasks it queues (signal handlers).
from cpf_portal import logs  # noqa: F401

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cpf_portal.settings")

app = Celery("cpf_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    # /sante/ reports beat as stale when this stops (HEALTH_BEAT_MAX_AGE_SECONDS).
    "ops-beat-heartbeat": {
        "task": "cpf_portal.beat_heartbeat",
        "schedule": 60.0,
    },
    "dossiers-process-deadlines": {
        "task": "dossiers.tasks.process_deadlines",
        "schedule": crontab(minute="*/10"),
    },
    "dossiers-reconcile-payments": {
        "task": "dossiers.tasks.reconcile_payments",
        "schedule": crontab(minute="*/5"),
    },
    "evaluations-ask-ended-trainings": {
        "task": "evaluations.tasks.ask_ended_trainings",
        "schedule": crontab(hour=9, minute=30),
    },
    "financing-dif-reminders": {
        "task": "financing.tasks.dif_reminders",
        "schedule": crontab(hour=9, minute=0),
    },
    "catalogue-requeue-stuck-imports": {
        "task": "catalogue.tasks.requeue_stuck_imports",
        "schedule": crontab(minute="*/10"),
    },
    "catalogue-refresh-search-index": {
        "task": "catalogue.tasks.refresh_search_index",
        "schedule": crontab(hour=0, minute=5),
    },
    "catalogue-refresh-rankings": {
        "task": "catalogue.tasks.refresh_rankings",
        "schedule": crontab(minute="*/15"),
    },
    "accounts-purge-login-logs": {
        "task": "accounts.tasks.purge_login_logs",
        "schedule": crontab(hour=3, minute=30),
    },
    "financing-process-refunds": {
        "task": "financing.tasks.process_refunds",
        "schedule": crontab(minute=20),
    },
    "billing-prepare-payment-batch": {
        "task": "billing.tasks.prepare_payment_batch",
        "schedule": crontab(hour=6, minute=0, day_of_week="1-5"),
    },
    "billing-alert-overdue-invoices": {
        "task": "billing.tasks.alert_overdue_invoices",
        "schedule": crontab(hour=8, minute=0),
    },
    # Webhook retries (each event also queues a delivery run when it commits).
    "api-deliver-webhooks": {
        "task": "api.tasks.deliver_webhooks",
        "schedule": 60.0,
    },
    "notifications-requeue-stuck-emails": {
        "task": "notifications.tasks.requeue_stuck_emails",
        "schedule": crontab(minute="*/15"),
    },
}


@app.task(name="cpf_portal.beat_heartbeat", ignore_result=True)
def beat_heartbeat() -> None:
    """Records that beat is alive and a worker consumes its tasks (read by /sante/ and /metrics)."""
    from cpf_portal.health import beat_heartbeat_record

    beat_heartbeat_record()


@task_failure.connect(dispatch_uid="cpf_metrics_task_failure")
def _count_task_failure(sender=None, **kwargs):
    from cpf_portal.jobstats import count_task_failure

    count_task_failure(getattr(sender, "name", "inconnue"))
