"""`make run`'s demo data: every role's account, and CP-FORMATION's dossiers in every step
with billing to walk (dossiers to bill, an acompte, a paid invoice, a batch for the operator)."""

import base64
import datetime
import io
import re

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from billing.models import Invoice, PaymentBatch
from catalogue.models import Formation, Organisme, Session
from cpf_portal.testing import text
from documents.models import Document
from dossiers.models import Dossier
from dossiers.states import BillingState, Status
from equipes.models import Membership, TeamRole
from evaluations.models import Evaluation
from financing.models import Movement, MovementKind
from notifications.models import Notification


@pytest.mark.django_db
def test_demo_data_shows_every_step_of_the_money_loop_and_loads_once():
    out = io.StringIO()
    call_command("load_demo", formations=40, stdout=out)
    organisme = Organisme.objects.get(raison_sociale="CP-FORMATION")
    dossiers = Dossier.objects.filter(organisme=organisme)
    statuses = set(dossiers.values_list("status", flat=True))
    assert {Status.SENT, Status.PROPOSED, Status.ACCEPTED, Status.IN_TRAINING, Status.SERVICE_DONE, Status.DEBITED} <= statuses
    billing = list(dossiers.values_list("billing_state", flat=True))
    assert billing.count(BillingState.TO_BILL) == 2 and billing.count(BillingState.ACOMPTE_TO_BILL) == 1
    assert billing.count(BillingState.PAID) == 2 and billing.count(BillingState.BILLED) == 1
    assert list(Invoice.objects.order_by("number").values_list("number", "status")) == [("000001", "paid"), ("000002", "in_batch")]
    assert PaymentBatch.objects.filter(status=PaymentBatch.Status.PREPARED).count() == 1
    # Walked along past dates: nothing happened in the future, the trainings ended weeks ago.
    assert not dossiers.filter(sent_at__gt=timezone.now()).exists()
    assert dossiers.filter(status=Status.DEBITED, debited_at__lt=timezone.now() - datetime.timedelta(days=20)).count() == 5
    # The demo titulaire's « Mes documents »: a receipt, a certificate of a finished dossier, an attestation.
    held = Document.objects.filter(owner__email="titulaire@cpf-demo.example")
    assert sorted(held.values_list("kind", flat=True)) == ["attestation_droits", "certificat", "recu"]
    assert "factures n° 000001 (payée) et n° 000002" in out.getvalue()
    # Evaluations: the trainings ended show a rating, a published comment and one waiting for the
    # operators; the demo titulaire's ended training awaits his evaluation.
    rated = Formation.objects.get(rating_count__gt=0)
    assert rated.rating_count == 4 and rated.rating_label == "4,1 / 5"
    assert sorted(Evaluation.objects.exclude(comment="").values_list("moderation", flat=True)) == ["pending", "published"]
    demo = dossiers.get(titulaire__email="titulaire@cpf-demo.example", status=Status.SERVICE_DONE)
    assert demo.status == Status.SERVICE_DONE and not Evaluation.objects.filter(dossier=demo).exists()
    # The generated catalogue is loaded on a fresh database, once.
    assert Formation.objects.exclude(organisme=organisme).count() == 40 and "Catalogue de démonstration : 40 formations" in out.getvalue()
    count = dossiers.count()
    call_command("load_demo", formations=40, stdout=io.StringIO())
    assert Dossier.objects.filter(organisme=organisme).count() == count and Invoice.objects.count() == 2
    assert Formation.objects.exclude(organisme=organisme).count() == 40


@pytest.mark.django_db
def test_demo_team_and_titulaire_each_have_a_working_authenticator_key():
    out = io.StringIO()
    call_command("load_demo", formations=40, stdout=out)
    organisme = Organisme.objects.get(raison_sociale="CP-FORMATION")
    held = {role for roles in Membership.objects.filter(organisme=organisme).values_list("roles", flat=True) for role in roles}
    assert held == set(TeamRole.values)
    printed = out.getvalue()
    for email in ["organisme@cpf-demo.example", "lecteur@cpf-demo.example", "admin@cpf-demo.example", "titulaire@cpf-demo.example"]:
        line = next(line for line in printed.splitlines() if email in line)
        secret = re.search(r"TOTP ([A-Z2-7 ]+)$", line).group(1).replace(" ", "")
        device = TOTPDevice.objects.get(user__email=email, confirmed=True)
        # The printed key is the device's: the code an app computes from it is accepted.
        assert device.verify_token(f"{TOTP(base64.b32decode(secret)).token():06d}")
    assert "Lecteur" in next(line for line in printed.splitlines() if "lecteur@cpf-demo.example" in line)
    again = io.StringIO()
    call_command("load_demo", formations=40, stdout=again)
    assert TOTPDevice.objects.filter(user__email="lecteur@cpf-demo.example").count() == 1
    admin_secret = secret
    assert admin_secret in again.getvalue().replace(" ", "")  # printed again at every `make run`


@pytest.mark.django_db
def test_demo_organisme_offers_every_modality_and_rythm_and_prerequisites():
    from catalogue.models import Action, Modalite, Rythme

    out = io.StringIO()
    call_command("load_demo", formations=40, stdout=out)
    actions = Action.objects.filter(formation__organisme__raison_sociale="CP-FORMATION")
    assert set(actions.values_list("modalite", flat=True)) == set(Modalite.values)
    assert {rythme for rythmes in actions.values_list("rythmes", flat=True) for rythme in rythmes} == set(Rythme.values)
    assert actions.exclude(prerequis="").exists() and all(action.sessions.exists() for action in actions)
    assert "Une action par modalité et par rythme" in out.getvalue()
    # One training of each eligible action without a certification, in Metz (issue 16).
    types = set(actions.filter(commune__code_insee="57463").values_list("formation__certification__type", flat=True))
    assert {"PERMIS", "BILAN", "VAE", "CREATION"} <= types


@pytest.mark.django_db
def test_demo_dates_follow_each_other_no_deadline_is_past_and_the_example_keeps_its_sessions(client):
    call_command("load_demo", formations=20, stdout=io.StringIO())
    now = timezone.now()
    dossiers = Dossier.objects.filter(titulaire__email__endswith="@cpf-demo.example")
    assert dossiers.count() >= 12
    for dossier in dossiers:
        events = list(dossier.events.order_by("id"))
        moments = [event.created_at for event in events]
        # « Dossier créé » first, then each step in the order it happened, none in the future.
        assert events[0].transition == "create" and dossier.created_at == moments[0], dossier.numero
        assert moments == sorted(moments) and moments[-1] <= now, dossier.numero
        steps = set(moments)
        # Every ledger movement, card payment and notice of a step is dated at that step.
        for movement in Movement.objects.filter(dossier=dossier):
            assert movement.created_at in steps, (dossier.numero, movement.label, movement.created_at)
        if dossier.payment_id:
            assert dossier.payment.paid_at == dossier.accepted_at and dossier.payment.paid_at in steps
        for notice in Notification.objects.filter(dedup_key__startswith=f"dossier:{dossier.pk}:"):
            assert notice.created_at in steps, (dossier.numero, notice.title)
        # No deadline of the demo is already past when it loads.
        assert dossier.deadline_at is None or dossier.deadline_at > now, (dossier.numero, dossier.deadline_at)
    # The rights credited to the demo's people are dated on the DSN's day, not on the loading day.
    camille = Movement.objects.filter(account__user__email="titulaire@cpf-demo.example", kind=MovementKind.ALIMENTATION)
    assert sorted(m.created_at.year for m in camille) == [2025, 2026]
    assert all(datetime.date(m.year + 1, 2, 1) <= timezone.localdate(m.created_at) <= datetime.date(m.year + 1, 6, 30) for m in camille)
    # The seed's example lists only its own sessions, at its price (870 €): the demo's dossiers
    # walk through its next session or through sessions that ended, or other formations.
    example = Formation.objects.get(numero="90000001900019_BRIGHT-ANGLAIS")
    assert set(example.actions.values_list("price_cents", flat=True)) == {87_000}
    open_sessions = Session.objects.open(timezone.localdate()).filter(formation=example)
    assert set(open_sessions.values_list("price_cents", flat=True)) == {87_000} and open_sessions.count() == 2
    page = text(client.get(f"/formations/{example.numero}/"))
    assert "870,00\xa0€" in page and "à partir de" not in page
