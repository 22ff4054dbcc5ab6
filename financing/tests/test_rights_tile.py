"""« Mon compte » shows the droits disponibles on its « Mes droits formation » tile (the
template tag ``rights_tile`` of ``financing/templatetags/rights.py``: accounts does not
import financing)."""

import re

import pytest
from django.urls import reverse

from cpf_portal.money import euros
from cpf_portal.testing import text
from dossiers.tests import factories as f
from financing import services

pytestmark = pytest.mark.django_db


def tiles(html: str) -> list[tuple[str, str, str]]:
    return re.findall(r'<h2 class="fr-tile__title"><a href="([^"]+)">([^<]+)</a></h2>\s*<p class="fr-tile__detail">([^<]+)</p>', html)


def test_mon_compte_shows_the_balance_on_the_rights_tile(client, titulaire_with_rights, organisme_user):
    f.accepted(titulaire_with_rights, f.session_for(organisme_user.organisme, price_cents=50_000), organisme_user)
    available = services.balances(services.account_for(titulaire_with_rights))["available"]
    assert 0 < available < 75_000  # rights blocked for the accepted dossier
    client.force_login(titulaire_with_rights)
    found = tiles(text(client.get(reverse("accounts:home"))))
    assert found[0] == (reverse("financing:rights"), "Mes droits formation", f"Droits disponibles : {euros(available)}")


def test_mon_compte_tiles_are_one_component_titled_as_their_pages(client, titulaire):
    client.force_login(titulaire)
    html = text(client.get(reverse("accounts:home")))
    found = tiles(html)
    assert [title for _, title, _ in found] == [
        "Mes droits formation",
        "Mes dossiers",
        "Mes favoris",
        "Mes informations",
        "Mes interlocuteurs",
        "Mes notifications",
        "Modifier mon mot de passe",
        "Sécurité de mon compte",
        "Mes documents",
        "Mes données",
    ]
    assert 'class="fr-btn' not in html.split('id="contenu"')[1].split("</main>")[0]  # no stray buttons beside the tiles
    for url, title, _ in found:
        page = text(client.get(url))
        assert re.search(rf"<h1[^>]*>{re.escape(title)}</h1>", page), title


def test_mon_compte_runs_a_fixed_number_of_queries(client, titulaire_with_rights, django_assert_max_num_queries):
    client.force_login(titulaire_with_rights)
    client.get(reverse("accounts:home"))
    with django_assert_max_num_queries(8) as captured:
        assert client.get(reverse("accounts:home")).status_code == 200
    assert len([q for q in captured.captured_queries if "financing_movement" in q["sql"]]) == 1
