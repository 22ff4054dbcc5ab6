"""Signed webhooks, checked by a tiny receiver started on 127.0.0.1: the outbox written with
its cause, the HMAC signature, retries with backoff after a 500, order per dossier, replay,
failure after 24 hours and the endpoint disabled after a day of failures."""

import datetime
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from api import webhooks
from api.models import Delivery, Event, WebhookEndpoint
from cpf_portal.testing import text
from dossiers.states import Actor
from dossiers.tests import factories as f
from equipes.models import TeamEvent
from notifications.models import Notification

pytestmark = pytest.mark.django_db


class Receiver:
    """An HTTP server on 127.0.0.1 answering the statuses queued (200 when none)."""

    def __init__(self):
        self.received: list[tuple[dict, bytes]] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[dict]:
        return [json.loads(body) for _, body in self.received]


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def endpoint(organisme, organisme_user, receiver):
    return webhooks.endpoint_add(organisme=organisme, url=receiver.url, events=[Event.DOSSIER_CREATED, Event.DOSSIER_STATUS], by=organisme_user)


def test_a_sent_dossier_is_delivered_signed(endpoint, receiver, titulaire_with_rights, organisme):
    dossier = f.sent(titulaire_with_rights, f.session_for(organisme))
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert (delivery.event, delivery.subject, delivery.status) == (Event.DOSSIER_CREATED, f"dossier:{dossier.numero}", "pending")
    assert webhooks.deliver_due() == 1
    headers, body = receiver.received[0]
    assert webhooks.verify(endpoint.secret, headers, body)
    assert not webhooks.verify("un autre secret", headers, body)
    assert not webhooks.verify(endpoint.secret, headers, body + b" ")  # a changed body
    event = json.loads(body)
    assert event["type"] == "dossier.created" and event["id"] == headers["X-Cpf-Event-Id"] == str(delivery.event_id)
    assert event["dossier"]["numero"] == dossier.numero and event["dossier"]["status"]["code"] == "sent"
    delivery.refresh_from_db()
    assert delivery.status == "sent" and delivery.last_status_code == 200 and delivery.last_duration_ms is not None


def test_no_event_without_its_cause_and_none_for_another_organisme(endpoint, titulaire_with_rights, organisme, other_organisme):
    with pytest.raises(RuntimeError), transaction.atomic():
        f.sent(titulaire_with_rights, f.session_for(organisme))
        raise RuntimeError
    f.sent(titulaire_with_rights, f.session_for(other_organisme))
    assert not Delivery.objects.exists()


def test_a_500_is_retried_with_backoff_in_order_then_delivered(endpoint, receiver, titulaire_with_rights, organisme, organisme_user):
    dossier = f.sent(titulaire_with_rights, f.session_for(organisme))
    f._fire(dossier, "refuse", Actor.ORGANISME, organisme_user, {"reason": "Session complète"})
    receiver.statuses = [500]
    now = timezone.now()
    assert webhooks.deliver_due(now=now) == 0
    first, second = Delivery.objects.order_by("id")
    first.refresh_from_db()
    assert (first.status, first.attempts, first.last_status_code) == ("pending", 1, 500)
    assert first.next_attempt_at == now + datetime.timedelta(minutes=1)
    assert len(receiver.received) == 1  # the second waits for the first: order per dossier
    endpoint.refresh_from_db()
    assert endpoint.failing_since == now
    assert webhooks.deliver_due(now=now + datetime.timedelta(seconds=30)) == 0  # not due yet
    assert webhooks.deliver_due(now=now + datetime.timedelta(minutes=2)) == 1
    assert webhooks.deliver_due(now=now + datetime.timedelta(minutes=2)) == 1
    assert [event["type"] for event in receiver.events()] == ["dossier.created", "dossier.created", "dossier.status_changed"]
    assert receiver.events()[0]["id"] == receiver.events()[1]["id"]  # the same event again
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None and endpoint.active


def test_backoff_grows_and_a_delivery_fails_after_24_hours(endpoint, receiver, titulaire_with_rights, organisme):
    assert [webhooks.backoff(n).total_seconds() for n in (1, 2, 3, 4, 5, 6)] == [60, 300, 1500, 7500, 6 * 3600, 6 * 3600]
    f.sent(titulaire_with_rights, f.session_for(organisme))
    delivery = Delivery.objects.get()
    receiver.statuses = [503]
    webhooks.deliver_due(now=delivery.created_at + datetime.timedelta(hours=25))
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.last_error == "Réponse HTTP 503"


def test_an_endpoint_failing_for_a_day_is_disabled_and_the_team_told(endpoint, titulaire_with_rights, organisme, organisme_user):
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url="http://127.0.0.1:9/ferme")  # nothing listens there
    f.sent(titulaire_with_rights, f.session_for(organisme))
    start = timezone.now()
    webhooks.deliver_due(now=start)
    endpoint.refresh_from_db()
    assert endpoint.active and endpoint.failing_since == start
    Delivery.objects.update(next_attempt_at=start)
    webhooks.deliver_due(now=start + datetime.timedelta(hours=24, minutes=1))
    endpoint.refresh_from_db()
    assert not endpoint.active and "24 heures" in endpoint.disabled_reason
    assert Notification.objects.filter(user=organisme_user, title="Webhook désactivé").exists()
    assert TeamEvent.objects.filter(organisme=organisme, kind=TeamEvent.Kind.WEBHOOK_DISABLED).exists()
    f.sent(titulaire_with_rights, f.session_for(organisme))
    assert Delivery.objects.count() == 1  # nothing more for a disabled endpoint


def test_replay_sends_the_same_event_again(endpoint, receiver, titulaire_with_rights, organisme, organisme_user, client):
    f.sent(titulaire_with_rights, f.session_for(organisme))
    webhooks.deliver_due()
    delivery = Delivery.objects.get()
    client.force_login(organisme_user)
    response = client.post(reverse("api:delivery-replay", args=[endpoint.public_id, delivery.pk]))
    assert response.status_code == 302
    webhooks.deliver_due()
    assert len(receiver.received) == 2 and receiver.events()[0] == receiver.events()[1]
    page = text(client.get(reverse("api:webhook", args=[endpoint.public_id])))
    assert "HTTP 200" in page and str(delivery.event_id) in page and endpoint.secret in page


def test_only_https_or_this_machine(organisme, organisme_user):
    for url in ("http://crm.example/webhooks", "ftp://127.0.0.1/x", "http://10.0.0.1/x"):
        with pytest.raises(ValidationError):
            webhooks.endpoint_add(organisme=organisme, url=url, events=[Event.INVOICE_PAID], by=organisme_user)
    assert webhooks.endpoint_add(organisme=organisme, url="https://crm.example/webhooks", events=[Event.INVOICE_PAID], by=organisme_user).active
    assert webhooks.endpoint_add(organisme=organisme, url="http://localhost:8080/x", events=[Event.INVOICE_PAID], by=organisme_user).active


def test_billing_documents_and_catalogue_changes_are_events(organisme, organisme_user, receiver, titulaire_with_rights):
    from billing.tests.test_billing import finished

    endpoint = webhooks.endpoint_add(organisme=organisme, url=receiver.url, events=list(Event.values), by=organisme_user)
    dossier = finished(organisme_user, f.session_for(organisme))
    kinds = set(Delivery.objects.filter(endpoint=endpoint).values_list("event", flat=True))
    assert {Event.DOSSIER_CREATED, Event.DOSSIER_STATUS, Event.DOSSIER_BILLING, Event.CATALOGUE_CHANGED} <= kinds
    billing_event = Delivery.objects.filter(event=Event.DOSSIER_BILLING, subject=f"dossier:{dossier.numero}").last()
    assert billing_event.payload["dossier"]["billing_state"]["code"] == "to_bill"


def test_team_pages_manage_keys_and_endpoints(client, organisme, organisme_user, other_organisme, other_organisme_user, receiver):
    client.force_login(organisme_user)
    response = client.post(reverse("api:keys"), {"name": "LMS", "scopes": ["dossiers", "lecture"]})
    assert response.status_code == 200
    page = text(response)
    plain = next(word for word in page.split() if word.startswith("cpf_") and not word.endswith("…"))
    assert "copiez-la maintenant" in page and plain not in text(client.get(reverse("api:keys")))
    response = client.post(reverse("api:keys"), {"name": "", "scopes": []})
    assert response.status_code == 400 and "Choisissez au moins un périmètre." in text(response)
    response = client.post(reverse("api:webhooks"), {"url": "http://crm.example/x", "events": ["invoice.paid"]})
    assert response.status_code == 400 and "https://" in text(response)
    response = client.post(reverse("api:webhooks"), {"url": receiver.url, "events": ["invoice.paid"]})
    endpoint = WebhookEndpoint.objects.get(organisme=organisme)
    assert response.url == reverse("api:webhook", args=[endpoint.public_id])
    # Another organisme's key and endpoint: 404; a member without the right: 403.
    other = webhooks.endpoint_add(organisme=other_organisme, url=receiver.url, events=["invoice.paid"], by=other_organisme_user)
    assert client.get(reverse("api:webhook", args=[other.public_id])).status_code == 404
    assert client.post(reverse("api:webhook-toggle", args=[other.public_id]), {"action": "desactiver"}).status_code == 404
    from api.keys import key_create

    their_key, _ = key_create(organisme=other_organisme, name="X", scopes=["lecture"], expires_at=None, by=other_organisme_user)
    assert client.post(reverse("api:key-revoke", args=[their_key.public_id])).status_code == 404
    from equipes.models import Membership

    Membership.objects.filter(user=organisme_user).update(roles=["lecteur"])
    assert client.get(reverse("api:keys")).status_code == 403
    assert client.get(reverse("api:webhooks")).status_code == 403


def test_the_deadline_jobs_announce_what_they_change(endpoint, receiver, titulaire_with_rights, organisme):
    from dossiers import services

    dossier = f.sent(titulaire_with_rights, f.session_for(organisme))
    assert services.expire_overdue(now=dossier.deadline_at + datetime.timedelta(seconds=1)) == 1
    assert list(Delivery.objects.order_by("id").values_list("event", flat=True)) == [Event.DOSSIER_CREATED, Event.DOSSIER_STATUS]
    webhooks.deliver_due()
    webhooks.deliver_due()
    assert [event["dossier"]["status"]["code"] for event in receiver.events()] == ["sent", "expired"]
