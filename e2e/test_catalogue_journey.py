import pytest
from django.utils import timezone
from playwright.sync_api import expect

from catalogue.models import Favori
from catalogue.seed import ensure_seed_example
from catalogue.services import search_terms_refresh
from catalogue.tests.factories import FormationFactory, OrganismeFactory, SessionFactory, commune
from e2e.conftest import field

SEED_TITLE = "Anglais - Test Bright Language - évaluation d'Anglais professionnel"


@pytest.mark.django_db(transaction=True)
def test_search_english_near_metz_open_the_training_add_it_to_favourites(live_server, page, titulaire, screenshot):
    ensure_seed_example(OrganismeFactory(raison_sociale="CP-FORMATION"), today=timezone.localdate())
    SessionFactory(commune=commune("marseille"), formation=FormationFactory(intitule="Anglais à Marseille"))
    commune("montigny")
    search_terms_refresh()

    page.goto(live_server.url + "/connexion/")
    field(page, "Numéro de sécurité sociale ou adresse électronique").fill(titulaire.email)
    field(page, "Mot de passe").fill("Formation2020")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Mon compte", level=1)).to_be_visible()

    page.get_by_role("link", name="Rechercher une formation").first.click()
    field(page, "Quelle formation ?").fill("anglais")
    field(page, "Où ?").fill("Metz")
    page.locator("summary", has_text="Affiner la recherche").click()  # the radius is among the folded filters
    page.get_by_label("Rayon autour de la commune").select_option("30")
    page.get_by_role("button", name="Rechercher").click()

    expect(page.get_by_role("heading", name="1 formation trouvée à moins de 30 km de Metz (57000) ou à distance")).to_be_visible()
    expect(page.get_by_text("Anglais à Marseille")).to_have_count(0)
    screenshot("recherche-anglais-metz")
    results = page.url
    page.get_by_role("link", name="Voir le détail").first.click()

    expect(page.get_by_role("heading", name=SEED_TITLE, level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Résultats de la recherche")).to_have_attribute("href", results.removeprefix(live_server.url))
    expect(page.get_by_text("par CP-FORMATION")).to_be_visible()
    expect(page.get_by_text("10 h de formation")).to_be_visible()
    expect(page.get_by_text("18 Rue des Feivres").first).to_be_visible()
    expect(page.get_by_role("link", name="S'inscrire à cette session").first).to_be_visible()
    screenshot("detail-formation")
    page.get_by_role("button", name="Ajouter aux favoris").click()

    expect(page.get_by_text("Formation ajoutée à vos favoris.")).to_be_visible()
    expect(page.get_by_role("button", name="Retirer des favoris")).to_be_visible()
    page.get_by_role("link", name="Mes favoris").first.click()
    expect(page.get_by_role("link", name=SEED_TITLE)).to_be_visible()
    assert Favori.objects.filter(user=titulaire, formation__intitule=SEED_TITLE).exists()


@pytest.mark.django_db(transaction=True)
def test_commune_suggestions_fill_the_place_field(live_server, page):
    commune("metz")
    commune("montigny")
    page.goto(live_server.url + "/formations/recherche/")
    field(page, "Où ?").press_sequentially("Montig", delay=30)
    expect(page.locator("#communes-suggestions option[value='Montigny-lès-Metz (57950)']")).to_have_count(1)
