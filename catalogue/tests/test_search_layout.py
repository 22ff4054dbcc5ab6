"""The results page of « Rechercher une formation »: the two main fields on top, the other
filters in « Affiner la recherche », cards that say price, place, duration and session, and
a formation page whose breadcrumb leads back to the results."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from catalogue import services
from catalogue.tests.factories import FormationFactory, SessionFactory, commune
from cpf_portal.testing import text

pytestmark = pytest.mark.django_db
URL = reverse("catalogue:search")


@pytest.fixture
def english():
    formation = FormationFactory(intitule="Anglais professionnel", duree_heures=10)
    session = SessionFactory(formation=formation, commune=commune("metz"), price_cents=129_000, duree_heures=10)
    services.search_terms_refresh()
    return session


def refine_panel(html: str) -> str:
    return html[html.index("<details") : html.index("</details>")]


def test_main_fields_and_button_come_before_the_folded_filters(client, english):
    html = text(client.get(URL, {"quoi": "anglais", "a_distance": "on"}))
    form = html[html.index('role="search"') : html.index("</form>")]
    assert form.index('name="quoi"') < form.index('name="ou"') < form.index(">Rechercher</button>") < form.index("<details")
    panel = refine_panel(html)
    assert '<details class="cpf-refine fr-mt-2w">' in html  # folded: no filter is set
    assert "Affiner la recherche" in panel and "filtre" not in panel.split("</summary>")[0]
    for name in ("rayon", "a_distance", "prix_max", "duree", "certification", "niveau", "modalite", "rythme", "debut_apres", "tri"):
        assert f'name="{name}"' in panel


def test_the_panel_is_open_with_the_number_of_active_filters(client, english):
    html = text(client.get(URL, {"quoi": "anglais", "a_distance": "on", "prix_max": "2000", "duree": "court", "rayon": "30"}))
    assert '<details class="cpf-refine fr-mt-2w" open>' in html
    assert re.search(r"Affiner la recherche\s+\(2 filtres actifs\)", html)
    one = text(client.get(URL, {"quoi": "anglais"}))  # the « à distance » box unticked
    assert re.search(r"Affiner la recherche\s+\(1 filtre actif\)", one)


def test_the_panel_opens_on_a_sort_or_an_error_in_it(client, english):
    sorted_by_price = text(client.get(URL, {"quoi": "anglais", "a_distance": "on", "tri": "prix"}))
    assert '<details class="cpf-refine fr-mt-2w" open>' in sorted_by_price and "filtre actif" not in sorted_by_price
    wrong = client.get(URL, {"quoi": "anglais", "a_distance": "on", "prix_max": "beaucoup"})
    assert wrong.status_code == 400
    assert '<details class="cpf-refine fr-mt-2w" open>' in text(wrong) and "Saisissez un nombre" in refine_panel(text(wrong))


def test_no_optional_mark_on_search_fields(client, english):
    for params in ({}, {"quoi": "anglais", "prix_max": "x"}):
        html = text(client.get(URL, params))
        assert "(Optionnel)" not in html[html.index('role="search"') : html.index("</form>")]
        assert "Prix maximum (€)" in html and "Session débutant après le" in html


def test_the_card_tells_price_place_duration_and_session(client, english):
    html = text(client.get(URL, {"quoi": "anglais", "ou": "Metz", "a_distance": "on"}))
    card = html[html.index("Anglais professionnel") :]
    card = card[: card.index("Voir le détail")]
    assert re.search(r"1\u202f290,00\xa0€", card)
    assert "Metz (57000)" in card and "10 h de formation" in card
    assert f"Session du {english.start_date:%d/%m/%Y} au {english.end_date:%d/%m/%Y}" in card


def test_a_remote_card_says_a_distance(client):
    SessionFactory(formation=FormationFactory(intitule="Anglais en ligne"), commune=None, price_cents=50_000)
    services.search_terms_refresh()
    html = text(client.get(URL, {"quoi": "anglais", "a_distance": "on"}))
    card = html[html.index("Anglais en ligne") :]
    assert "À distance" in card[: card.index("Voir le détail")]


def breadcrumb(html: str) -> str:
    start = html.index('class="fr-breadcrumb"')
    return html[start : html.index("</nav>", start)]


def detail_link(html: str) -> str:
    return re.search(r'href="(/formations/[^/"]+/\?retour=[^"]+)"', html).group(1)


def test_the_breadcrumb_of_a_formation_goes_back_to_the_same_results(client, english):
    query = {"quoi": "anglais", "ou": "Metz", "a_distance": "on", "prix_max": "2000", "page": "1"}
    link = detail_link(text(client.get(URL, query)))
    back = parse_qs(urlsplit(link).query)["retour"][0]
    assert urlsplit(back).path == URL and parse_qs(urlsplit(back).query) == {k: [v] for k, v in query.items()}
    page = text(client.get(link))
    crumb = breadcrumb(page)
    href = re.search(r'href="([^"]+)">Résultats de la recherche</a>', crumb).group(1)
    assert urlsplit(href).path == URL and parse_qs(urlsplit(href).query) == {k: [v] for k, v in query.items()}
    assert client.get(href).status_code == 200


@pytest.mark.parametrize(
    "retour",
    [
        "https://evil.example/formations/recherche/?quoi=anglais",
        "//evil.example/formations/recherche/",
        "/\\evil.example/formations/recherche/",
        "/mes-dossiers/",
        "javascript:alert(1)",
    ],
)
def test_the_breadcrumb_refuses_a_foreign_or_other_url(client, english, retour):
    page = text(client.get(reverse("catalogue:detail", args=[english.formation.numero]), {"retour": retour}))
    crumb = breadcrumb(page)
    assert f'href="{URL}">Rechercher une formation</a>' in crumb
    assert "evil" not in crumb and "Résultats de la recherche" not in crumb and "/mes-dossiers/" not in crumb


def test_the_breadcrumb_keeps_only_the_search_fields(client, english):
    retour = f"{URL}?quoi=anglais&utm_source=x&next=https://evil.example/"
    page = text(client.get(reverse("catalogue:detail", args=[english.formation.numero]), {"retour": retour}))
    assert f'href="{URL}?quoi=anglais">Résultats de la recherche</a>' in page


def test_favourite_toggle_keeps_the_way_back(client, titulaire, english):
    client.force_login(titulaire)
    detail = reverse("catalogue:detail", args=[english.formation.numero]) + f"?retour={URL}%3Fquoi%3Danglais"
    page = text(client.get(detail))
    assert f'<input type="hidden" name="next" value="{detail}">' in page
    response = client.post(reverse("catalogue:favori", args=[english.formation.numero]), {"action": "ajouter", "next": detail})
    assert response.url == detail
