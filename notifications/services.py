"""Queue e-mails and in-app notifications inside the caller's transaction.

Nothing leaves the process before the commit: the row is written now and the Celery task
that sends it is queued with ``transaction.on_commit``.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from .models import Email, Notification

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


def _render(template: str, context: dict) -> tuple[str, str]:
    subject = render_to_string(f"{template}_subject.txt", context).strip()
    body = render_to_string(f"{template}_body.txt", context)
    return " ".join(subject.split()), body


def email_queue(*, to: str, template: str, context: dict, user=None, dedup_key: str | None = None) -> Email | None:
    """Write an outbox row and send it after commit. With a ``dedup_key`` already used, do
    nothing and return None (the same reminder is never sent twice)."""
    subject, body = _render(template, {"site_url": settings.SITE_URL, **context})
    email = Email(to=to, user=user, template=template, subject=subject, body_text=body, dedup_key=dedup_key)
    if dedup_key is not None:
        try:
            with transaction.atomic():
                email.save()
        except IntegrityError:
            return None
    else:
        email.save()
    send_after_commit(email.pk)
    return email


def send_after_commit(email_id: int) -> None:
    """Queue the Celery task that sends this e-mail once the transaction commits."""
    from .tasks import send_email

    transaction.on_commit(lambda: send_email.delay(email_id))


def email_send(email_id: int) -> bool:
    """Send one queued e-mail; return True if it left now. Safe to call twice: the row is
    locked and a sent row is skipped."""
    with transaction.atomic():
        email = Email.objects.select_for_update(skip_locked=True).filter(pk=email_id, status=Email.Status.QUEUED).first()
        if email is None:
            return False
        message = EmailMessage(subject=email.subject, body=email.body_text, to=[email.to])
        email.attempts += 1
        try:
            message.send()
        except Exception as exc:  # any transport error: keep the row for a later retry
            logger.warning("E-mail %s not sent: %s", email.pk, exc)
            email.last_error = str(exc)[:2000]
            if email.attempts >= MAX_ATTEMPTS:
                email.status = Email.Status.FAILED
            email.save(update_fields=["attempts", "last_error", "status"])
            return False
        email.status = Email.Status.SENT
        email.sent_at = timezone.now()
        email.save(update_fields=["attempts", "status", "sent_at"])
        return True


def requeue_stuck(*, older_than_minutes: int = 15) -> int:
    """Queue again the e-mails whose task was lost (worker down, broker restarted)."""
    limit = timezone.now() - timezone.timedelta(minutes=older_than_minutes)
    ids = list(Email.objects.filter(status=Email.Status.QUEUED, created_at__lt=limit).values_list("pk", flat=True)[:500])
    for email_id in ids:
        send_after_commit(email_id)
    return len(ids)


def notify(*, user, title: str, body: str = "", url: str = "", dedup_key: str | None = None) -> Notification | None:
    """Add an in-app notification (« Mes notifications »); idempotent with a ``dedup_key``."""
    notification = Notification(user=user, title=title, body=body, url=url, dedup_key=dedup_key)
    if dedup_key is None:
        notification.save()
        return notification
    try:
        with transaction.atomic():
            notification.save()
    except IntegrityError:
        return None
    return notification


def notifications_mark_read(*, user, ids=None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())
