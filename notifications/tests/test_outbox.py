"""The e-mail outbox: a row per e-mail, sent by ``email_send`` (the ``send_email`` task).

Transport failures are real ones: the e-mail backend of the test raises ``smtplib.SMTPException``
as an SMTP server that refuses the connection would; nothing inside the service is mocked.
"""

import datetime
import smtplib

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from cpf_portal.celery import app
from notifications import services, tasks
from notifications.models import Email

pytestmark = pytest.mark.django_db

LOCMEM = "django.core.mail.backends.locmem.EmailBackend"


class RefusingBackend(BaseEmailBackend):
    """An SMTP server that refuses every message."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPException("421 Service non disponible, connexion refusée")


@pytest.fixture
def smtp_down(settings):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    return settings


def queue(titulaire, **kwargs) -> Email:
    return services.email_queue(
        to=titulaire.email,
        user=titulaire,
        template="accounts/emails/activation_code",
        context={"code": "123456", "user": titulaire, "ttl": 15},
        **kwargs,
    )


def test_a_queued_email_is_sent_once(titulaire, mailoutbox):
    email = queue(titulaire)
    assert email.status == Email.Status.QUEUED and email.attempts == 0
    assert services.email_send(email.pk) is True
    email.refresh_from_db()
    assert email.status == Email.Status.SENT and email.sent_at is not None and email.attempts == 1
    assert [(m.to, m.subject) for m in mailoutbox] == [([titulaire.email], email.subject)]


def test_sending_twice_sends_once(titulaire, mailoutbox):
    email = queue(titulaire)
    assert services.email_send(email.pk) is True
    assert services.email_send(email.pk) is False
    assert tasks.send_email(email.pk) is False  # the task is the same function behind Celery
    email.refresh_from_db()
    assert email.status == Email.Status.SENT and email.attempts == 1
    assert len(mailoutbox) == 1


def test_an_unknown_email_is_not_sent(db, mailoutbox):
    assert services.email_send(987_654_321) is False
    assert mailoutbox == []


def test_a_transport_error_keeps_the_email_queued_for_a_retry(titulaire, smtp_down, mailoutbox):
    email = queue(titulaire)
    assert services.email_send(email.pk) is False
    email.refresh_from_db()
    assert email.status == Email.Status.QUEUED and email.sent_at is None
    assert email.attempts == 1
    assert "connexion refusée" in email.last_error
    assert mailoutbox == []
    # The server is back: the next attempt sends it.
    smtp_down.EMAIL_BACKEND = LOCMEM
    assert services.email_send(email.pk) is True
    email.refresh_from_db()
    assert email.status == Email.Status.SENT and email.attempts == 2
    assert len(mailoutbox) == 1


def test_the_email_fails_after_max_attempts(titulaire, smtp_down, mailoutbox):
    email = queue(titulaire)
    for attempt in range(1, services.MAX_ATTEMPTS + 1):
        assert services.email_send(email.pk) is False
        email.refresh_from_db()
        assert email.attempts == attempt
        expected = Email.Status.FAILED if attempt == services.MAX_ATTEMPTS else Email.Status.QUEUED
        assert email.status == expected
    # A failed e-mail is not tried again, even once the server is back.
    smtp_down.EMAIL_BACKEND = LOCMEM
    assert services.email_send(email.pk) is False
    email.refresh_from_db()
    assert email.status == Email.Status.FAILED and email.attempts == services.MAX_ATTEMPTS and email.last_error
    assert mailoutbox == []


def test_a_dedup_key_queues_one_email(titulaire):
    first = queue(titulaire, dedup_key="rappel-dif-j30")
    assert first is not None
    assert queue(titulaire, dedup_key="rappel-dif-j30") is None
    assert Email.objects.filter(dedup_key="rappel-dif-j30").count() == 1


def test_nothing_is_sent_before_the_commit(titulaire, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        email = queue(titulaire)
    assert len(callbacks) == 1
    assert mailoutbox == []
    assert Email.objects.get(pk=email.pk).status == Email.Status.QUEUED


def queued_task_ids() -> list[int]:
    """The e-mail ids of the ``send_email`` tasks waiting in this run's broker queue (read and
    removed from the real Redis queue)."""
    ids = []
    with app.connection_for_read() as connection:
        queue = connection.SimpleQueue(app.conf.task_default_queue)
        try:
            while True:
                message = queue.get(timeout=1)
                message.ack()
                if message.headers.get("task") == "notifications.tasks.send_email":
                    ids.append(message.payload[0][0])
        except queue.Empty:
            pass
        finally:
            queue.close()
    return ids


def test_requeue_stuck_queues_again_the_old_queued_emails_only(titulaire, django_capture_on_commit_callbacks):
    now = timezone.now()

    def email(status, minutes_ago):
        row = queue(titulaire)
        Email.objects.filter(pk=row.pk).update(status=status, created_at=now - datetime.timedelta(minutes=minutes_ago))
        return row

    stuck = email(Email.Status.QUEUED, 16)
    email(Email.Status.QUEUED, 14)  # its task may still be on its way
    email(Email.Status.SENT, 60)
    email(Email.Status.FAILED, 60)
    app.control.purge()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.requeue_stuck(older_than_minutes=15) == 1
    assert queued_task_ids() == [stuck.pk]
    with django_capture_on_commit_callbacks(execute=True):
        assert services.requeue_stuck(older_than_minutes=30) == 0
    assert queued_task_ids() == []


def test_requeue_stuck_task_waits_fifteen_minutes_by_default(titulaire, django_capture_on_commit_callbacks):
    row = queue(titulaire)
    Email.objects.filter(pk=row.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=15, seconds=5))
    app.control.purge()
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.requeue_stuck_emails() == 1
    assert queued_task_ids() == [row.pk]
