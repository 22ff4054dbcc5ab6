"""« Search first »: from the home page to the results, the first result on the first
screen at 1280 px and at 390 px; the way back from a formation to the same results."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from catalogue.seed import ensure_seed_example
from catalogue.services import search_terms_refresh
from catalogue.tests.factories import FormationFactory, OrganismeFactory, SessionFactory, commune
from dossiers.display import NEXT_ACTION
from dossiers.states import Status
from dossiers.tests import factories as f
from e2e.conftest import field, login

pytestmark = pytest.mark.django_db(transaction=True)
SEED_TITLE = "Anglais - Test Bright Language - évaluation d'Anglais professionnel"
SCREENS = {"1280 px": {"width": 1280, "height": 800}, "390 px": {"width": 390, "height": 844}}


@pytest.fixture
def catalogue():
    organisme = OrganismeFactory(raison_sociale="CP-FORMATION")
    seed = ensure_seed_example(organisme, today=timezone.localdate())
    metz = commune("metz")
    for title in ("Anglais des affaires", "Anglais courant, niveau B2"):
        SessionFactory(formation=FormationFactory(intitule=title), commune=metz)
    commune("montigny")
    search_terms_refresh()
    return seed


def first_card_on_first_screen(page, size):
    card = page.locator("#resultats .cpf-result").first
    expect(card).to_be_visible()
    box, title = card.bounding_box(), card.get_by_role("heading").bounding_box()
    assert box["y"] < size["height"], f"la première carte commence à {box['y']} px, sous l'écran de {size['height']} px"
    assert title["y"] + title["height"] <= size["height"], "le titre de la première formation n'est pas visible sans défiler"


@pytest.mark.parametrize("screen", SCREENS)
def test_search_from_the_home_page_shows_the_first_result_without_scrolling(live_server, page, catalogue, screen):
    size = SCREENS[screen]
    page.set_viewport_size(size)
    page.goto(live_server.url + "/")
    field(page, "Quelle formation ?").fill("anglais")
    field(page, "Où ?").fill("Metz")
    page.get_by_role("button", name="Rechercher").click()

    page.wait_for_url(re.compile(r"/formations/recherche/\?"))
    expect(page.get_by_role("heading", name=re.compile(r"^3 formations trouvées à moins de 30 km de Metz \(57000\) ou à distance"))).to_be_visible()
    expect(page.locator("summary", has_text="Affiner la recherche")).to_be_visible()
    expect(page.get_by_label("Prix maximum (€)")).to_be_hidden()  # folded: no filter set
    assert page.evaluate("window.scrollY") == 0
    first_card_on_first_screen(page, size)
    expect(page.locator("#resultats .cpf-result").first).to_contain_text("€")


@pytest.mark.parametrize("screen", SCREENS)
def test_with_filters_the_panel_is_open_and_the_first_result_still_on_the_first_screen(live_server, page, catalogue, screen):
    size = SCREENS[screen]
    page.set_viewport_size(size)
    page.goto(live_server.url + "/formations/recherche/?quoi=anglais&ou=Metz&a_distance=on")
    page.locator("summary", has_text="Affiner la recherche").click()
    page.get_by_label("Prix maximum (€)").fill("1000")
    page.get_by_role("button", name="Rechercher").click()

    expect(page.locator("summary")).to_have_text(re.compile(r"Affiner la recherche\s+\(1 filtre actif\)"))
    expect(page.get_by_label("Prix maximum (€)")).to_have_value("1000")
    # Open, the panel pushes the results down; one fold and they are on the first screen again.
    page.locator("summary", has_text="Affiner la recherche").click()
    expect(page.get_by_label("Prix maximum (€)")).to_be_hidden()
    first_card_on_first_screen(page, size)


def test_the_breadcrumb_of_a_formation_leads_back_to_the_same_results(live_server, page, catalogue):
    page.set_viewport_size(SCREENS["1280 px"])
    page.goto(live_server.url + "/formations/recherche/?quoi=anglais&ou=Metz&a_distance=on&tri=prix")
    results = page.url
    page.get_by_role("link", name=SEED_TITLE).first.click()
    expect(page.get_by_role("heading", name=SEED_TITLE, level=1)).to_be_visible()
    page.get_by_role("link", name="Résultats de la recherche").click()
    assert page.url == results
    expect(page.get_by_label("Trier par")).to_have_value("prix")


@pytest.mark.parametrize("screen", SCREENS)
def test_a_titulaire_sees_his_balance_and_waiting_dossier_on_the_home_page(
    live_server, page, catalogue, titulaire_with_rights, organisme_user, screen
):
    page.set_viewport_size(SCREENS[screen])
    draft = f.draft(titulaire_with_rights, f.session_for(organisme_user.organisme))
    login(page, live_server, titulaire_with_rights.email)
    page.goto(live_server.url + "/")
    expect(page.get_by_text(re.compile(r"Droits disponibles : 750,00\s€"))).to_be_visible()
    waiting = page.get_by_role("region", name="Mes dossiers en attente de ma part")
    expect(waiting).to_contain_text(NEXT_ACTION[Status.DRAFT])
    waiting.get_by_role("link", name=f"Dossier n° {draft.numero}").click()
    expect(page).to_have_url(re.compile(rf"/mes-dossiers/{draft.numero}/$"))
