"""A suspended organisme: its formations leave the search at once, its sessions take no new
dossier, its open dossiers are listed for the operator; lifting the suspension brings all back."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from catalogue import services
from catalogue.search import SearchQuery, search
from cpf_portal.testing import text
from dossiers import services as dossier_services
from dossiers.states import DossierError
from dossiers.tests import factories as f
from dossiers.workflow import Actor

pytestmark = pytest.mark.django_db


def found(intitule_word: str) -> list[str]:
    return [hit.formation.intitule for hit in search(SearchQuery(keywords=intitule_word), today=timezone.localdate()).hits]


def test_a_suspended_organisme_leaves_the_search_and_takes_no_dossier(organisme, organisme_user, titulaire_with_rights, session, operator):
    draft = f.draft(titulaire_with_rights, session)
    assert session.formation.intitule in found("anglais")
    with pytest.raises(ValidationError, match="motif"):
        services.organisme_suspend(organisme=organisme, reason=" ", by=operator)
    services.organisme_suspend(organisme=organisme, reason="Démarchage téléphonique signalé", by=operator)
    assert found("anglais") == []
    with pytest.raises(DossierError, match="plus ouverte aux inscriptions"):
        dossier_services.dossier_create(titulaire=titulaire_with_rights, session=f.session_for(organisme))
    with pytest.raises(DossierError, match="plus ouverte aux inscriptions"):
        dossier_services.dossier_transition(
            dossier_id=draft.pk, name="send", actor=Actor.TITULAIRE, by=titulaire_with_rights, payload={"consent": True}
        )
    services.organisme_reinstate(organisme=organisme, by=operator)
    assert session.formation.intitule in found("anglais")
    assert (
        dossier_services.dossier_transition(
            dossier_id=draft.pk, name="send", actor=Actor.TITULAIRE, by=titulaire_with_rights, payload={"consent": True}
        ).status
        == "sent"
    )


def test_the_operator_suspends_from_the_admin_and_sees_the_open_dossiers(client, organisme, organisme_user, titulaire_with_rights, session, operator):
    sent = f.sent(titulaire_with_rights, session)
    client.force_login(operator)
    url = reverse("admin:catalogue_organisme_suspension", args=[organisme.pk])
    page = text(client.get(url))
    assert "Dossiers en cours (1)" in page and f"Dossier n° {sent.numero}" in page
    response = client.post(url, {"decision": "suspendre", "reason": ""})
    assert "Indiquez le motif de la suspension." in text(response)
    client.post(url, {"decision": "suspendre", "reason": "Contrôle en cours"})
    organisme.refresh_from_db()
    assert organisme.suspended_at is not None and organisme.suspension_reason == "Contrôle en cours"
    assert "Suspendu depuis le" in text(client.get(url))
