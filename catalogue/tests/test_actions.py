"""The offer in three levels: formation → action (place, modality, rythm, duration, price,
prérequis, contact) → session (dates, registration window, places). Sessions follow their
action's price and place; formations keep summaries of their actions for the search."""

import datetime

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from catalogue.models import FormationIndex, Modalite, Session
from catalogue.search import SearchQuery, search
from catalogue.tests.factories import ActionFactory, FormationFactory, SessionFactory, commune
from cpf_portal.testing import text

pytestmark = pytest.mark.django_db


@pytest.fixture
def formation():
    """One formation taught three ways: Metz by day, Metz in the evening, and at a distance."""
    formation = FormationFactory(intitule="Comptabilité générale")
    metz = commune("metz")
    SessionFactory(formation=formation, commune=metz, rythmes=["journee"], price_cents=150_000, duree_heures=70)
    SessionFactory(formation=formation, commune=metz, rythmes=["soiree"], price_cents=120_000, duree_heures=70)
    SessionFactory(formation=formation, commune=None, address="", rythmes=["temps_partiel"], price_cents=90_000, duree_heures=60)
    formation.refresh_from_db()
    return formation


def found(**kwargs) -> dict[str, Session]:
    query = SearchQuery(keywords="comptabilite", **kwargs)
    return {hit.formation.intitule: hit.session for hit in search(query, today=timezone.localdate()).hits}


def test_the_formation_and_its_index_summarise_its_actions(formation):
    assert formation.duree_heures == 60 and formation.modalite == Modalite.MIXTE
    assert formation.modalites == ["distance", "presentiel"] and formation.rythmes == ["journee", "soiree", "temps_partiel"]
    index = FormationIndex.objects.get(formation=formation)
    assert index.modalites == formation.modalites and index.rythmes == formation.rythmes and index.duree_heures == 60
    formation.actions.filter(modalite=Modalite.DISTANCE).delete()
    formation.refresh_from_db()
    assert formation.modalite == Modalite.PRESENTIEL and formation.duree_heures == 70 and "temps_partiel" not in formation.rythmes


def test_rythm_and_modality_are_facets_and_the_card_shows_a_matching_session(formation):
    FormationFactory(intitule="Comptabilité des associations")  # no action: not found
    assert set(found()) == {"Comptabilité générale"}
    assert found(rythme="soiree")["Comptabilité générale"].price_cents == 120_000
    assert found(rythme="journee")["Comptabilité générale"].price_cents == 150_000
    assert found(modalite="distance")["Comptabilité générale"].commune is None
    assert found(rythme="weekend") == {}
    assert found(modalite="mixte") == {}


def test_the_search_form_offers_the_facets_and_cards_show_the_rythm(client, formation):
    page = text(client.get(reverse("catalogue:search"), {"quoi": "comptabilite", "rythme": "soiree"}))
    assert "Rythme" in page and "Modalité" in page and "En soirée" in page and "1 200,00" in page.replace("\u202f", " ")
    response = client.get(reverse("catalogue:search"), {"quoi": "comptabilite", "rythme": "la-nuit"})
    assert response.status_code == 400 and "Sélectionnez un choix valide" in text(response)


def test_sessions_keep_their_action_s_price_and_place_even_when_written_in_sql(formation):
    action = formation.actions.get(rythmes=["soiree"])
    with connection.cursor() as cursor:
        cursor.execute("UPDATE catalogue_action SET price_cents = 99000, commune_id = %s WHERE id = %s", [commune("nancy").pk, action.pk])
        cursor.execute("UPDATE catalogue_session SET price_cents = 1, commune_id = NULL WHERE action_id = %s", [action.pk])
    session = action.sessions.get()
    assert (session.price_cents, session.commune.name, session.formation_id) == (99_000, "Nancy", formation.pk)
    assert session.latitude == pytest.approx(48.690111)


def test_the_registration_window_is_kept(titulaire, organisme):
    from dossiers.states import DossierError
    from dossiers.tests import factories as f

    f.give_rights(titulaire, 200_000)
    today = timezone.localdate()
    session = f.session_for(organisme)
    session.registration_opens = today + datetime.timedelta(days=3)
    session.save()
    with pytest.raises(DossierError, match=f"ouvrent le {session.registration_opens:%d/%m/%Y}"):
        f.draft(titulaire, session)
    session.registration_opens, session.registration_closes = None, today - datetime.timedelta(days=1)
    session.save()
    with pytest.raises(DossierError, match="sont closes depuis le"):
        f.draft(titulaire, session)
    session.registration_closes = today
    session.save()
    assert f.draft(titulaire, session).session == session


def test_the_detail_page_tells_when_registrations_open(client, titulaire):
    action = ActionFactory(formation=FormationFactory(intitule="Paie"), prerequis="Bases de comptabilité.", heures_hebdo=7)
    opens = timezone.localdate() + datetime.timedelta(days=5)
    SessionFactory(action=action, registration_opens=opens)
    client.force_login(titulaire)
    page = text(client.get(reverse("catalogue:detail", args=[action.formation.numero])))
    assert f"Inscriptions à partir du {opens:%d/%m/%Y}." in page and "S'inscrire à cette session" not in page
    assert "Prérequis : Bases de comptabilité." in page and "(7 h par semaine)" in page
