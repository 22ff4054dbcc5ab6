"""Signed webhooks. An event writes one ``Delivery`` per endpoint that chose it, in the
transaction that caused it (outbox: no event without its cause, no cause without its event).
Celery sends the due deliveries, in order per subject (a dossier), signed with HMAC-SHA256
over ``<timestamp>.<body>``; a failure is retried with exponential backoff for 24 hours, then
the delivery fails; an endpoint failing for a day is disabled and the team told.

Headers: ``X-CPF-Event-Id``, ``X-CPF-Event``, ``X-CPF-Timestamp``, ``X-CPF-Signature:
v1=<hex>``. Receivers deduplicate on the event id (delivery is at least once)."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import ipaddress
import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.db.models.signals import post_save
from django.urls import reverse
from django.utils import timezone

from cpf_portal.queue import enqueue_on_commit
from equipes.models import TeamEvent
from equipes.permissions import Right, members_with

from .models import Delivery, Event, WebhookEndpoint

RETRY_FOR = datetime.timedelta(hours=24)
DISABLE_AFTER = datetime.timedelta(hours=24)
TIMEOUT_SECONDS = 10
BATCH = 200


# --- Endpoints --------------------------------------------------------------------------------


def check_url(url: str) -> str:
    """HTTPS, or HTTP to this machine only (development)."""
    parts = urlsplit(url.strip())
    if parts.scheme == "https" and parts.hostname:
        return url.strip()
    if parts.scheme == "http" and parts.hostname:
        host = parts.hostname
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if loopback:
            return url.strip()
    raise ValidationError({"url": "L'adresse doit commencer par https:// (http:// seulement vers 127.0.0.1 ou localhost, en développement)."})


@transaction.atomic
def endpoint_add(*, organisme, url: str, events: list[str], by) -> WebhookEndpoint:
    url = check_url(url)
    if not events or not set(events) <= set(Event.values):
        raise ValidationError({"events": "Choisissez au moins un événement."})
    endpoint = WebhookEndpoint.objects.create(organisme=organisme, url=url, events=sorted(set(events)), secret=secrets.token_hex(32), created_by=by)
    TeamEvent.objects.create(organisme=organisme, actor=by, kind=TeamEvent.Kind.WEBHOOK_ADDED, subject=url[:300])
    return endpoint


@transaction.atomic
def endpoint_set_active(*, endpoint: WebhookEndpoint, active: bool, by) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    endpoint.active, endpoint.failing_since = active, None
    endpoint.disabled_reason = "" if active else "Désactivé par l'organisme."
    endpoint.save(update_fields=["active", "failing_since", "disabled_reason"])
    if not active:
        TeamEvent.objects.create(organisme=endpoint.organisme, actor=by, kind=TeamEvent.Kind.WEBHOOK_DISABLED, subject=endpoint.url[:300])
    return endpoint


@transaction.atomic
def replay(*, delivery: Delivery) -> Delivery:
    """Send a delivery again (the same event id: the receiver deduplicates)."""
    delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
    delivery.status, delivery.next_attempt_at, delivery.attempts = Delivery.Status.PENDING, timezone.now(), 0
    delivery.save(update_fields=["status", "next_attempt_at", "attempts"])
    _kick()
    return delivery


# --- Events (outbox) --------------------------------------------------------------------------


def emit(*, organisme_id: int | None, event: str, subject: str, resource: str, data: Callable[[], dict], now: datetime.datetime | None = None) -> int:
    """One delivery per active endpoint of the organisme that chose ``event``, written in the
    current transaction; the sending task is queued once it commits. ``data()`` (the object as
    the API represents it) is computed only when some endpoint wants the event."""
    if organisme_id is None:
        return 0
    now = now or timezone.now()
    endpoints = list(WebhookEndpoint.objects.filter(organisme_id=organisme_id, active=True, events__contains=[event]).values_list("pk", flat=True))
    if not endpoints:
        return 0
    payload = json.loads(json.dumps({"type": event, "created_at": now, resource: data()}, cls=DjangoJSONEncoder))
    Delivery.objects.bulk_create(Delivery(endpoint_id=pk, event=event, subject=subject, payload=payload, created_at=now) for pk in endpoints)
    _kick()
    return len(endpoints)


def _kick() -> None:
    from .tasks import deliver_webhooks  # the task module imports this one

    enqueue_on_commit(deliver_webhooks)


def emit_dossier(dossier, event: str, **extra) -> int:
    """``emit`` for a dossier: the dossier as the API represents it (and ``extra``)."""

    def data():
        from .schemas import DossierOut

        return {**DossierOut.from_orm(dossier).model_dump(mode="json"), **extra}

    return emit(organisme_id=dossier.organisme_id, event=event, subject=f"dossier:{dossier.numero}", resource="dossier", data=data)


def _on_dossier_event(sender, instance, created, **kwargs):
    if not created or instance.transition == "create":  # a draft is the titulaire's own
        return
    emit_dossier(instance.dossier, Event.DOSSIER_CREATED if instance.transition == "send" else Event.DOSSIER_STATUS)


def _on_billing_move(sender, dossier, name, **kwargs):
    if "organisme_id" in dossier.get_deferred_fields():
        return  # a set-based job's partial rows: announced by _on_recorded_in_bulk
    emit_dossier(dossier, Event.DOSSIER_BILLING)


def _on_recorded_in_bulk(sender, transition, dossier_ids, **kwargs):
    """A deadline job moved these dossiers: one query finds those whose organisme listens."""
    listening = WebhookEndpoint.objects.filter(active=True).values("organisme_id")
    from dossiers.models import Dossier

    events = [Event.DOSSIER_STATUS, *([Event.DOSSIER_BILLING] if transition == "validate_service" else [])]
    for dossier in Dossier.objects.filter(pk__in=dossier_ids, organisme_id__in=listening).select_related("formation", "session__action"):
        for event in events:
            emit_dossier(dossier, event)


def _on_proof(sender, instance, created, **kwargs):
    if created:
        emit_dossier(instance.dossier, Event.DOSSIER_DOCUMENT, document={"id": str(instance.public_id), "kind": instance.kind})


def _on_invoices_paid(sender, invoices, **kwargs):
    from .schemas import InvoiceOut

    def data_of(invoice):
        def data():
            invoice.refresh_from_db(fields=["status", "paid_at", "payment_reference"])
            return InvoiceOut.from_orm(invoice).model_dump(mode="json")

        return data

    for invoice in invoices:
        emit(
            organisme_id=invoice.organisme_id,
            event=Event.INVOICE_PAID,
            subject=f"invoice:{invoice.number}",
            resource="invoice",
            data=data_of(invoice),
        )


def _on_catalogue(sender, instance, **kwargs):
    formation = instance if sender.__name__ == "Formation" else instance.formation
    data = {"kind": sender.__name__.lower(), "id": str(instance.public_id), "formation": formation.numero}
    emit(
        organisme_id=formation.organisme_id,
        event=Event.CATALOGUE_CHANGED,
        subject=f"formation:{formation.numero}",
        resource="catalogue",
        data=lambda: data,
    )


def connect() -> None:
    from billing.signals import invoices_paid
    from catalogue.models import Action, Formation, Session
    from dossiers.billing import moved
    from dossiers.models import DossierEvent, ServiceProof
    from dossiers.services import recorded_in_bulk

    post_save.connect(_on_dossier_event, sender=DossierEvent, dispatch_uid="api_dossier_event")
    post_save.connect(_on_proof, sender=ServiceProof, dispatch_uid="api_proof")
    moved.connect(_on_billing_move, dispatch_uid="api_billing_move")
    recorded_in_bulk.connect(_on_recorded_in_bulk, dispatch_uid="api_recorded_in_bulk")
    invoices_paid.connect(_on_invoices_paid, dispatch_uid="api_invoices_paid")
    for model in (Formation, Action, Session):
        post_save.connect(_on_catalogue, sender=model, dispatch_uid=f"api_catalogue_{model.__name__}")


# --- Sending ----------------------------------------------------------------------------------


def signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def backoff(attempts: int) -> datetime.timedelta:
    """1 min, 5 min, 25 min, 2 h 05, then every 6 h (until 24 h after the event)."""
    return datetime.timedelta(seconds=min(60 * 5 ** (attempts - 1), 6 * 3600))


def deliver_due(*, now: datetime.datetime | None = None) -> int:
    """Send the due deliveries, each the oldest pending of its subject for its endpoint.
    Returns the number sent successfully."""
    now = now or timezone.now()
    earlier = Delivery.objects.filter(
        endpoint=OuterRef("endpoint"), subject=OuterRef("subject"), status=Delivery.Status.PENDING, id__lt=OuterRef("id")
    )
    due = (
        Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now, endpoint__active=True)
        .exclude(Exists(earlier))
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:BATCH]
    )
    return sum(_attempt(pk, now=now) for pk in list(due))


def _attempt(delivery_id: int, *, now: datetime.datetime) -> bool:
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint__organisme")
            .filter(pk=delivery_id, status=Delivery.Status.PENDING)
            .first()
        )
        if delivery is None:
            return False
        endpoint = delivery.endpoint
        body = json.dumps({"id": str(delivery.event_id), **delivery.payload}, ensure_ascii=False).encode()
        timestamp = int(now.timestamp())
        request = urllib.request.Request(
            endpoint.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "MonCompteFormation-Webhooks/1",
                "X-CPF-Event-Id": str(delivery.event_id),
                "X-CPF-Event": delivery.event,
                "X-CPF-Timestamp": str(timestamp),
                "X-CPF-Signature": f"v1={signature(endpoint.secret, timestamp, body)}",
            },
        )
        started = time.perf_counter()
        code, error = None, ""
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                code = response.status
        except urllib.error.HTTPError as failure:
            code, error = failure.code, f"Réponse HTTP {failure.code}"
        except (urllib.error.URLError, OSError, ValueError) as failure:
            error = f"Connexion impossible : {getattr(failure, 'reason', failure)}"[:300]
        delivery.attempts += 1
        delivery.last_status_code, delivery.last_duration_ms = code, int((time.perf_counter() - started) * 1000)
        ok = code is not None and 200 <= code < 300
        if ok:
            delivery.status, delivery.delivered_at, delivery.last_error = Delivery.Status.SENT, now, ""
            if endpoint.failing_since:
                WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
        else:
            delivery.last_error = error or f"Réponse HTTP {code}"
            if now - delivery.created_at >= RETRY_FOR:
                delivery.status = Delivery.Status.FAILED
            else:
                delivery.next_attempt_at = now + backoff(delivery.attempts)
            _endpoint_failed(endpoint, now)
        delivery.save(update_fields=["attempts", "last_status_code", "last_duration_ms", "status", "delivered_at", "last_error", "next_attempt_at"])
    return ok


def _endpoint_failed(endpoint: WebhookEndpoint, now: datetime.datetime) -> None:
    if endpoint.failing_since is None:
        WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=now)
        return
    if now - endpoint.failing_since < DISABLE_AFTER:
        return
    reason = f"Désactivé le {timezone.localtime(now):%d/%m/%Y à %H:%M} : aucun envoi reçu depuis 24 heures."
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(active=False, disabled_reason=reason)
    TeamEvent.objects.create(
        organisme=endpoint.organisme, actor=None, kind=TeamEvent.Kind.WEBHOOK_DISABLED, subject=endpoint.url[:300], detail=reason
    )
    from notifications.services import notify

    url = reverse("api:webhooks")
    for user in members_with(Right.EQUIPE_GERER, [endpoint.organisme_id]).get(endpoint.organisme_id, []):
        notify(
            user=user,
            title="Webhook désactivé",
            body=f"{endpoint.url} ne répond plus depuis 24 heures : les événements ne lui sont plus envoyés. Corrigez-le puis réactivez-le.",
            url=url,
            dedup_key=f"webhook-disabled:{endpoint.pk}:{now:%Y%m%d%H%M}",
        )


def verify(secret: str, headers: dict, body: bytes, *, tolerance: int = 300, now: float | None = None) -> bool:
    """What a receiver does (and the README shows): the signature of ``<timestamp>.<body>``
    matches, and the timestamp is recent (no replay of an old request)."""
    headers = {name.lower(): value for name, value in headers.items()}  # header names have no case
    try:
        timestamp = int(headers.get("x-cpf-timestamp", ""))
    except ValueError:
        return False
    expected = "v1=" + signature(secret, timestamp, body)
    return hmac.compare_digest(expected, headers.get("x-cpf-signature", "")) and abs((now or time.time()) - timestamp) <= tolerance
