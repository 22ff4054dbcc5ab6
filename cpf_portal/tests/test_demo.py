"""`make run`'s demo data: every role's account, and CP-FORMATION's dossiers in every step
with billing to walk (dossiers to bill, an acompte, a paid invoice, a batch for the operator)."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from billing.models import Invoice, PaymentBatch
from catalogue.models import Organisme
from dossiers.models import Dossier
from dossiers.states import BillingState, Status


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
    assert billing.count(BillingState.PAID) == 1 and billing.count(BillingState.BILLED) == 1
    assert list(Invoice.objects.order_by("number").values_list("number", "status")) == [("000001", "paid"), ("000002", "in_batch")]
    assert PaymentBatch.objects.filter(status=PaymentBatch.Status.PREPARED).count() == 1
    # Walked along past dates: nothing happened in the future, the trainings ended weeks ago.
    assert not dossiers.filter(sent_at__gt=timezone.now()).exists()
    assert dossiers.filter(status=Status.DEBITED, debited_at__lt=timezone.now() - datetime.timedelta(days=20)).count() == 4
    assert "factures n° 000001 (payée) et n° 000002" in out.getvalue()
    count = dossiers.count()
    call_command("load_demo", formations=40, stdout=io.StringIO())
    assert Dossier.objects.filter(organisme=organisme).count() == count and Invoice.objects.count() == 2
