"""Celery application: tasks are autodiscovered in each app's tasks.py.

The periodic schedule is declared here, in code, and django-celery-beat's DatabaseScheduler
copies it into the database at start-up, where operators can see, pause or run a job from
the Django admin (« Periodic tasks »).
"""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cpf_portal.settings")

app = Celery("cpf_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    "dossiers-process-deadlines": {
        "task": "dossiers.tasks.process_deadlines",
        "schedule": crontab(minute="*/10"),
    },
    "dossiers-reconcile-payments": {
        "task": "dossiers.tasks.reconcile_payments",
        "schedule": crontab(minute="*/5"),
    },
    "financing-dif-reminders": {
        "task": "financing.tasks.dif_reminders",
        "schedule": crontab(hour=9, minute=0),
    },
    "catalogue-refresh-search-index": {
        "task": "catalogue.tasks.refresh_search_index",
        "schedule": crontab(hour=0, minute=5),
    },
    "accounts-purge-login-logs": {
        "task": "accounts.tasks.purge_login_logs",
        "schedule": crontab(hour=3, minute=30),
    },
    "notifications-requeue-stuck-emails": {
        "task": "notifications.tasks.requeue_stuck_emails",
        "schedule": crontab(minute="*/15"),
    },
}
