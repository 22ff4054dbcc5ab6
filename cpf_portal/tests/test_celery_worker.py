"""The broker path for real: a Celery worker process on the (embedded) Redis runs a task
queued after commit, and the task writes to PostgreSQL."""

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection, transaction

from accounts import services
from accounts.tests.factories import TitulaireFactory
from cpf_portal import logs
from cpf_portal.celery import app
from notifications.models import Email

BASE_DIR = Path(__file__).resolve().parents[2]


def test_database_url() -> str:
    """DATABASE_URL of the test database the worker must use."""
    parts = urlsplit(settings.DATABASE_URL)
    return urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))


test_database_url.__test__ = False


@pytest.fixture
def worker(tmp_path):
    log = tmp_path / "worker.log"
    env = {**os.environ, "DATABASE_URL": test_database_url(), "DEBUG": "true", "EMAIL_URL": "consolemail://"}
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "cpf_portal",
                "worker",
                "--pool=solo",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    app.conf.task_always_eager = False
    try:
        yield log
    finally:
        app.conf.task_always_eager = True
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_the_activation_email_through_redis(worker):
    user = TitulaireFactory(activated_at=None)
    # As if queued by a request: its id travels in the task's headers to the worker's log lines.
    token = logs.request_id_var.set("requete-activation-0001")
    try:
        with transaction.atomic():
            services.activation_code_send(user=user, check_rate=False)
            email = Email.objects.get(user=user)
            assert email.status == Email.Status.QUEUED
    finally:
        logs.request_id_var.reset(token)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        email.refresh_from_db()
        if email.status == Email.Status.SENT:
            break
        time.sleep(0.2)
    assert email.status == Email.Status.SENT, worker.read_text()
    assert email.sent_at is not None
    # The console backend of the worker printed the very message.
    assert email.subject in worker.read_text()
    succeeded = [line for line in worker.read_text().splitlines() if "succeeded" in line and "send_email" in line]
    assert succeeded and "[requete-activation-0001]" in succeeded[0], worker.read_text()
