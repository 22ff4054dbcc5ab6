"""The control of a service fait: proofs attached by the organisme, « En contrôle » holding the
automatic validation, the operator's decision (validate or refuse), each logged with its actor."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.tests.factories import OperatorFactory
from cpf_portal.testing import text
from dossiers import services
from dossiers.models import DossierEvent, ServiceProof
from dossiers.states import BillingState, ControlState
from dossiers.tests import factories as f
from dossiers.workflow import Actor, Status, TransitionNotAllowed
from financing import services as money
from financing.models import Refund
from financing.tests.factories import PDF_BYTES
from notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def declared(titulaire_with_rights, session, organisme_user):
    return f.service_done(titulaire_with_rights, session, organisme_user)


def test_control_holds_the_automatic_validation_until_the_operator_validates(declared, organisme_user, operator):
    controlled = services.control_open(dossier_id=declared.pk, by=operator, reason="Signalement d'un titulaire")
    assert controlled.control_state == ControlState.IN_CONTROL
    event = DossierEvent.objects.get(dossier=declared, transition="control_open")
    assert (event.actor, event.comment) == (operator, "Signalement d'un titulaire")
    assert Notification.objects.filter(user=organisme_user, title=f"Dossier n° {declared.numero} : service fait en contrôle").exists()
    assert services.validate_due_services(now=declared.deadline_at) == 0
    with pytest.raises(TransitionNotAllowed, match="en contrôle"):
        services.dossier_transition(dossier_id=declared.pk, name="validate_service", actor=Actor.SYSTEM, now=declared.deadline_at)
    validated = services.dossier_transition(dossier_id=declared.pk, name="validate_service", actor=Actor.OPERATEUR, by=operator)
    assert (validated.status, validated.control_state, validated.billing_state) == (Status.DEBITED, ControlState.RELEASED, BillingState.TO_BILL)


def test_a_refused_service_gives_the_rights_back_refunds_the_card_and_bills_nothing(declared, titulaire_with_rights, organisme_user, operator):
    services.control_open(dossier_id=declared.pk, by=operator)
    with pytest.raises(services.DossierError, match="motif"):
        services.dossier_transition(dossier_id=declared.pk, name="refuse_service", actor=Actor.OPERATEUR, by=operator, payload={"reason": " "})
    refused = services.dossier_transition(
        dossier_id=declared.pk, name="refuse_service", actor=Actor.OPERATEUR, by=operator, payload={"reason": "Aucune feuille d'émargement"}
    )
    assert (refused.status, refused.control_state, refused.billing_state, refused.billable_cents) == (
        Status.SERVICE_REFUSED,
        ControlState.RELEASED,
        BillingState.NOT_BILLABLE,
        0,
    )
    assert money.balances(money.account_for(titulaire_with_rights)) == {"acquired": 75_000, "locked": 0, "available": 75_000}
    assert Refund.objects.get().amount_cents == 12_000
    assert DossierEvent.objects.get(dossier=declared, transition="refuse_service").actor == operator
    assert Notification.objects.filter(user=titulaire_with_rights, body__contains="Vos droits vous sont rendus").exists()
    with pytest.raises(TransitionNotAllowed):
        services.dossier_transition(dossier_id=declared.pk, name="refuse_service", actor=Actor.ORGANISME, by=organisme_user, payload={"reason": "x"})


def test_the_organisme_attaches_proofs_that_only_it_and_operators_can_open(
    client, declared, organisme_user, other_organisme_user, titulaire, operator
):
    url = reverse("dossiers:organisme-proof-upload", args=[declared.numero])
    client.force_login(organisme_user)
    response = client.post(url, {"kind": "emargement", "file": SimpleUploadedFile("liste.pdf", b"pas un pdf", content_type="application/pdf")})
    assert response.status_code == 400 and "Le fichier doit être un PDF, une image JPEG ou PNG." in text(response)
    response = client.post(url, {"kind": "emargement"})
    assert response.status_code == 400 and "Choisissez le fichier du justificatif." in text(response)
    assert not ServiceProof.objects.exists()
    client.post(url, {"kind": "emargement", "file": SimpleUploadedFile("émargement.pdf", PDF_BYTES, content_type="text/plain")})
    proof = ServiceProof.objects.get()
    assert (proof.content_type, proof.original_name, proof.uploaded_by) == ("application/pdf", "émargement.pdf", organisme_user)
    assert "émargement.pdf" not in proof.file.name
    file_url = reverse("dossiers:organisme-proof", args=[declared.numero, proof.public_id])
    page = text(client.get(reverse("dossiers:organisme-detail", args=[declared.numero])))
    assert "Feuilles d'émargement — émargement.pdf" in page
    response = client.get(file_url)
    assert response.status_code == 200 and response.getvalue() == PDF_BYTES and "no-store" in response["Cache-Control"]
    client.force_login(other_organisme_user)
    assert client.get(file_url).status_code == 404
    assert client.post(url, {"kind": "emargement", "file": SimpleUploadedFile("x.pdf", PDF_BYTES)}).status_code == 404
    client.force_login(titulaire)
    assert client.get(file_url).status_code == 403
    client.force_login(operator)
    response = client.get(reverse("admin:dossiers_serviceproof_file", args=[proof.public_id]))
    assert response.status_code == 200 and response.getvalue() == PDF_BYTES


def test_the_operator_decides_from_the_admin(client, declared, operator, organisme_user):
    client.force_login(operator)
    url = reverse("admin:dossiers_dossier_control", args=[declared.pk])
    assert "Contrôle du service fait" in text(client.get(url))
    client.post(url, {"decision": "controle", "reason": "Contrôle aléatoire"})
    declared.refresh_from_db()
    assert declared.control_state == ControlState.IN_CONTROL
    response = client.post(url, {"decision": "refuser", "reason": ""})
    assert response.status_code == 200 and "Indiquez le motif du refus." in text(response)
    client.post(url, {"decision": "valider"})
    declared.refresh_from_db()
    assert (declared.status, declared.control_state) == (Status.DEBITED, ControlState.RELEASED)
    client.force_login(organisme_user)
    page = text(client.get(reverse("dossiers:organisme-detail", args=[declared.numero])))
    assert "En contrôle" not in page and "À facturer" in page


def test_in_control_is_shown_to_the_organisme(client, declared, organisme_user):
    services.control_open(dossier_id=declared.pk, by=OperatorFactory())
    client.force_login(organisme_user)
    page = text(client.get(reverse("dossiers:organisme-detail", args=[declared.numero])))
    assert "Service fait en contrôle" in page and "Déposer le justificatif" in page
