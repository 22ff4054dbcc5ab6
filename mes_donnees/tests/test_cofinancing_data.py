"""« Mes données » and the requests of complementary financing: exported, their words erased."""

import pytest
from django.urls import reverse

from accounts.tests.factories import TitulaireFactory
from dossiers import services as dossier_services
from dossiers.tests import factories as f
from dossiers.workflow import Actor
from interlocuteurs import services
from interlocuteurs.models import CofinancingRequest
from mes_donnees.services import delete_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def answered(conseiller, titulaire_with_rights, session):
    """A refused request on a dossier the titulaire then cancelled (nothing in progress)."""
    titulaire = titulaire_with_rights
    titulaire.interlocuteur = conseiller.structure
    titulaire.save(update_fields=["interlocuteur"])
    dossier = f.sent(titulaire, session)
    cofinancing = services.cofinancing_request_create(dossier=dossier, by=titulaire, amount_cents=12_000, message="Je cherche un emploi de cariste.")
    services.cofinancing_refuse(cofinancing=cofinancing, by=conseiller, reason="Projet non validé avec votre conseiller.")
    dossier_services.dossier_transition(dossier_id=dossier.pk, name="cancel_request", actor=Actor.TITULAIRE, by=titulaire)
    return cofinancing


def test_the_export_holds_my_requests_and_not_others(client, answered, conseiller, session):
    other = TitulaireFactory(interlocuteur=conseiller.structure)
    f.give_rights(other, 75_000)
    services.cofinancing_request_create(dossier=f.sent(other, f.session_for(session.formation.organisme)), by=other, message="Autre demande")
    client.force_login(answered.dossier.titulaire)
    data = client.get(reverse("mes_donnees:my-data"), {"format": "json"}).json()
    rows = data["demandes_de_financement_complementaire"]
    assert len(rows) == 1
    row = rows[0]
    assert (row["dossier__numero"], row["structure__name"], row["amount_cents"]) == (answered.dossier.numero, "France Travail Metz Nord", 12_000)
    assert (row["message"], row["status"], row["reason"]) == (
        "Je cherche un emploi de cariste.",
        "refused",
        "Projet non validé avec votre conseiller.",
    )


def test_the_erasure_removes_the_words_and_keeps_the_request(answered):
    delete_account(answered.dossier.titulaire)
    answered.refresh_from_db()
    assert (answered.message, answered.reason, answered.status) == ("(effacé)", "(effacé)", CofinancingRequest.Status.REFUSED)
