"""The broker path for real: a Celery worker process on the (embedded) Redis runs a task
queued after commit, and the task writes to PostgreSQL."""

import time

import pytest
from django.db import transaction

from accounts import services
from accounts.tests.factories import TitulaireFactory
from cpf_portal import logs
from notifications.models import Email
from notifications.services import unseal


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_the_activation_email_through_redis(real_worker):
    user = TitulaireFactory(activated_at=None)
    # As if queued by a request: its id travels in the task's headers to the worker's log lines.
    token = logs.request_id_var.set("requete-activation-0001")
    try:
        with transaction.atomic():
            services.activation_code_send(user=user, check_rate=False)
            email = Email.objects.get(user=user)
            assert email.status == Email.Status.QUEUED
            subject, _ = unseal(email.sealed)  # the real one, with the code the row shows masked
    finally:
        logs.request_id_var.reset(token)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        email.refresh_from_db()
        if email.status == Email.Status.SENT:
            break
        time.sleep(0.2)
    assert email.status == Email.Status.SENT, real_worker.read_text()
    assert email.sent_at is not None
    # The console backend of the worker printed the very message.
    assert subject in real_worker.read_text() and "[masqué]" not in subject
    succeeded = [line for line in real_worker.read_text().splitlines() if "succeeded" in line and "send_email" in line]
    assert succeeded and "[requete-activation-0001]" in succeeded[0], real_worker.read_text()
