"""`make run`'s demo: a request waits for the demo conseiller, another one was granted."""

import io

import pytest
from django.core.management import call_command

from accounts.models import User
from interlocuteurs.models import CofinancingRequest


@pytest.mark.django_db
def test_the_demo_conseiller_has_a_request_waiting_and_one_granted():
    out = io.StringIO()
    call_command("load_demo", formations=40, stdout=out)
    conseiller = User.objects.get(email="conseiller@cpf-demo.example")
    requests = CofinancingRequest.objects.filter(structure=conseiller.structure)
    assert requests.waiting().count() == 1
    granted = requests.get(status=CofinancingRequest.Status.GRANTED)
    assert granted.abondement.amount_cents == 50_000 and granted.dossier.abondements_cents == 50_000
    assert granted.dossier.titulaire.interlocuteur == conseiller.structure
    assert "Demandes de financement complémentaire au conseiller : 1 en attente" in out.getvalue()
    call_command("load_demo", formations=40, stdout=io.StringIO())
    assert requests.count() == 2
