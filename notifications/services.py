"""E-mails and in-app notifications, written inside the caller's transaction (outbox).

One rendering path: ``render_message(template, context)`` gives the subject and the plain
text of ``<template>_subject.txt`` / ``<template>_body.txt``, rendered by the « text »
template engine (no HTML escaping: « d'Anglais » stays « d'Anglais »). The same copy feeds
« Mes notifications » (``notify_from_template``) and the e-mails (``email_queue``).

Nothing leaves the process before the commit: the row is written now and the Celery task
that sends it is queued after the commit (``cpf_portal.queue``: a broker down never fails
the request; ``requeue_stuck`` sends what was missed). Sending claims the row by
compare-and-set, talks to the mail server outside any transaction, then marks the row.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import logging
import re

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from cpf_portal.context_processors import delays
from cpf_portal.queue import enqueue, enqueue_on_commit

from .models import Email, Notification

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
TEXT_ENGINE = "text"


def render_message(template: str, context: dict) -> tuple[str, str]:
    """(subject on one line, plain-text body) of ``template``, with the site's address and
    the delays of the rules in the context."""
    context = {"site_url": settings.SITE_URL, **delays(None), **context}
    subject = render_to_string(f"{template}_subject.txt", context, using=TEXT_ENGINE)
    body = render_to_string(f"{template}_body.txt", context, using=TEXT_ENGINE)
    return one_line(subject), body.strip() + "\n"


def one_line(text: str) -> str:
    """A subject on one line: the template's line breaks folded, not the no-break spaces
    of « 300,00 € »."""
    return re.sub(r"[ \t\r\n]+", " ", text).strip()


MASKED = "[masqué]"


def _fernet():
    from cryptography.fernet import Fernet

    key = hashlib.sha256(f"cpf-outbox-secrets:{settings.SECRET_KEY}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(subject: str, body: str) -> str:
    return _fernet().encrypt(json.dumps([subject, body]).encode()).decode()


def unseal(sealed: str) -> tuple[str, str]:
    subject, body = json.loads(_fernet().decrypt(sealed.encode()))
    return subject, body


def email_queue(*, to: str, template: str, context: dict, user=None, dedup_key: str | None = None, secrets: dict | None = None) -> Email | None:
    """Write an outbox row and send it after commit. With a ``dedup_key`` already used, do
    nothing and return None (the same reminder is never sent twice). ``secrets`` (a code, a
    personal link) join the context of the message sent, but the row shows them masked and
    keeps the real message encrypted only until it is sent: no operator reads them."""
    subject, body = render_message(template, {**context, **dict.fromkeys(secrets or {}, MASKED)})
    email = Email(to=to, user=user, template=template, subject=subject, body_text=body, dedup_key=dedup_key)
    if secrets:
        email.sealed = seal(*render_message(template, {**context, **secrets}))
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
    """Nudge the worker to send this e-mail once the transaction commits."""
    from .tasks import send_email

    enqueue_on_commit(send_email, email_id)


BATCH = 500


def send_many_after_commit(email_ids: list[int]) -> None:
    """Nudge the worker once per batch of ``BATCH`` e-mails (a deadline job writes thousands
    at once: one task each would cost more than the sending)."""
    from .tasks import send_emails

    for start in range(0, len(email_ids), BATCH):
        enqueue_on_commit(send_emails, email_ids[start : start + BATCH])


def email_send(email_id: int, *, now: datetime.datetime | None = None) -> bool:
    """Send one queued e-mail; True if it left now. Claims the row first (queued → sending,
    one winner), sends with no transaction and no lock held, then marks it sent, or queued
    again with the error, or failed after ``MAX_ATTEMPTS``. Safe to call twice."""
    now = now or timezone.now()
    claimed = Email.objects.filter(pk=email_id, status=Email.Status.QUEUED).update(
        status=Email.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return False
    email = Email.objects.get(pk=email_id)
    subject, body = unseal(email.sealed) if email.sealed else (email.subject, email.body_text)
    try:
        EmailMessage(subject=subject, body=body, to=[email.to]).send()
    except Exception as exc:  # any transport error: keep the row for a later retry
        logger.warning("Courriel %s non envoyé : %s", email.pk, type(exc).__name__)
        status = Email.Status.FAILED if email.attempts >= MAX_ATTEMPTS else Email.Status.QUEUED
        sealed = "" if status == Email.Status.FAILED else email.sealed  # given up: its secret is dropped
        Email.objects.filter(pk=email.pk, status=Email.Status.SENDING).update(
            status=status, last_error=str(exc)[:2000], claimed_at=None, sealed=sealed
        )
        return False
    Email.objects.filter(pk=email.pk, status=Email.Status.SENDING).update(
        status=Email.Status.SENT, sent_at=timezone.now(), claimed_at=None, sealed=""
    )
    return True


def requeue_stuck(*, older_than_minutes: int = 15) -> int:
    """Nudge again the e-mails whose task was lost (broker down, worker restarted), and give
    back the ones claimed by a worker that died while sending."""
    limit = timezone.now() - datetime.timedelta(minutes=older_than_minutes)
    Email.objects.filter(status=Email.Status.SENDING, claimed_at__lt=limit).update(status=Email.Status.QUEUED, claimed_at=None)
    ids = list(
        Email.objects.filter(status=Email.Status.QUEUED)
        .filter(Q(created_at__lt=limit) | Q(attempts__gt=0))
        .order_by("created_at")
        .values_list("pk", flat=True)[:500]
    )
    from .tasks import send_email

    for email_id in ids:
        enqueue(send_email, email_id)
    return len(ids)


def notify(
    *, user, title: str, body: str = "", url: str = "", dedup_key: str | None = None, now: datetime.datetime | None = None
) -> Notification | None:
    """Add an in-app notification (« Mes notifications »); idempotent with a ``dedup_key``.
    ``now``: the moment of what it tells (a service called with the moment of its step)."""
    notification = Notification(user=user, title=title, body=body, url=url, dedup_key=dedup_key, created_at=now or timezone.now())
    if dedup_key is None:
        notification.save()
        return notification
    try:
        with transaction.atomic():
            notification.save()
    except IntegrityError:
        return None
    return notification


def notify_from_template(
    *, user, template: str, context: dict, url: str = "", dedup_key: str | None = None, now: datetime.datetime | None = None
) -> Notification | None:
    """An in-app notification whose title and text are ``template``'s subject and body."""
    title, body = render_message(template, context)
    return notify(user=user, title=title, body=body.strip(), url=url, dedup_key=dedup_key, now=now)


def notifications_mark_read(*, user, ids=None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())
