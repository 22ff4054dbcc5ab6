import time

from celery import shared_task

from cpf_portal.jobstats import record_job_run

from . import services


@shared_task(name="dossiers.tasks.process_deadlines")
def process_deadlines() -> dict:
    """Every few minutes: expire what was not answered in time (set-based), validate the
    services fait whose delay is over, send the reminders. Idempotent and safe to run twice
    or concurrently (SKIP LOCKED claims, dedup keys)."""
    started = time.monotonic()
    result = {
        "expired": services.expire_overdue(),
        "validated": services.validate_due_services(),
        "reminders": services.send_reminders(),
    }
    record_job_run("process_deadlines", time.monotonic() - started)
    return result


@shared_task(name="dossiers.tasks.reconcile_payments")
def reconcile_payments() -> dict:
    """Every few minutes: a card charged whose dossier was not accepted (a crash between the
    two) is used to accept it while the proposal stands, else refunded. Idempotent."""
    return services.reconcile_payments()
