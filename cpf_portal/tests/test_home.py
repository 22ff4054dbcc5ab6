"""The home page leads with the search; a titulaire also sees his rights and the dossiers
waiting for him."""

import re

import pytest
from django.urls import reverse

from cpf_portal.testing import text
from dossiers.display import NEXT_ACTION
from dossiers.states import Status
from dossiers.tests import factories as f

pytestmark = pytest.mark.django_db


def test_home_page_leads_with_the_search_form(client):
    html = text(client.get("/"))
    form = html[html.index('role="search"') : html.index("</form>")]
    assert f'action="{reverse("catalogue:search")}"' in html
    assert "Quelle formation ?" in form and "Où ?" in form and ">Rechercher</button>" in form
    # « Où ? » is the search page's commune field, with its suggestions.
    assert 'name="ou"' in form and 'list="communes-suggestions"' in form and 'data-cpf-communes="/formations/communes/"' in form
    assert '<input type="hidden" name="a_distance" value="on">' in form
    assert "(Optionnel)" not in form
    assert "Droits disponibles" not in html and "Je crée mon compte" in html


def test_the_home_search_lands_on_the_results(client):
    response = client.get(reverse("catalogue:search"), {"quoi": "anglais", "ou": "", "a_distance": "on"})
    assert response.status_code == 200
    assert "Affiner la recherche" in text(response) and "filtre actif" not in text(response)


def test_titulaire_sees_the_balance_and_the_dossiers_waiting_for_him(client, titulaire_with_rights, organisme_user):
    titulaire = titulaire_with_rights
    draft = f.draft(titulaire, f.session_for(organisme_user.organisme))
    proposal = f.proposed(titulaire, f.session_for(organisme_user.organisme), organisme_user)
    sent = f.sent(titulaire, f.session_for(organisme_user.organisme))
    client.force_login(titulaire)
    html = text(client.get("/"))
    assert re.search(r"Droits disponibles : 750,00\s€", html)
    waiting = html[html.index("Mes dossiers en attente de ma part") :]
    assert f'href="{reverse("dossiers:detail", args=[draft.numero])}">Dossier n° {draft.numero}</a>' in waiting
    assert f"Dossier n° {proposal.numero}" in waiting and NEXT_ACTION[Status.PROPOSED] in waiting
    assert NEXT_ACTION[Status.DRAFT] in waiting and "jusqu'au" in waiting
    assert f"Dossier n° {sent.numero}" not in waiting  # the organisme's turn
    assert "Je crée mon compte" not in html.split("</header>")[-1]


def test_titulaire_without_waiting_dossier_is_told_so(client, titulaire):
    client.force_login(titulaire)
    html = text(client.get("/"))
    assert re.search(r"Droits disponibles : 0,00\s€", html)
    assert "Aucun dossier n'attend d'action de votre part." in html


def test_home_page_runs_a_fixed_number_of_queries(client, titulaire_with_rights, organisme_user, django_assert_max_num_queries):
    titulaire = titulaire_with_rights
    f.draft(titulaire, f.session_for(organisme_user.organisme))
    client.force_login(titulaire)
    client.get("/")  # the session and the user, once cached
    with django_assert_max_num_queries(10) as one:
        assert client.get("/").status_code == 200
    for _ in range(6):
        f.proposed(titulaire, f.session_for(organisme_user.organisme), organisme_user)
    with django_assert_max_num_queries(len(one.captured_queries)):
        html = text(client.get("/"))
    assert html.count(NEXT_ACTION[Status.PROPOSED]) == 5 and "Voir tous mes dossiers" in html
    balance = [q["sql"] for q in one.captured_queries if "financing_movement" in q["sql"]]
    assert len(balance) == 1 and "SUM" in balance[0]
