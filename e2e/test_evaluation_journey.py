"""After a finished training, at 1280 and 390 px: the titulaire finds the call to evaluate in
« Mes dossiers », confirms he followed the training and gives his stars with the keyboard
(Tab to each group, arrows to choose, Enter to send), then finds the rating on the
formation's card in the search results and on its page."""

import re

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import OrganismeStaffFactory
from catalogue.services import search_terms_refresh
from catalogue.tests.factories import OrganismeFactory
from dossiers.tests import factories as f
from e2e.conftest import field, login
from evaluations.models import Evaluation

STARS = {"Accueil": 5, "Contenu": 4, "Équipe pédagogique": 5, "Moyens": 3, "Accompagnement": 4}


def tab_until(page, target, max_tabs: int = 80):
    for _ in range(max_tabs):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"{target} n'est pas atteignable à la tabulation")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1280, 390])
def test_the_titulaire_evaluates_his_finished_training_and_the_rating_shows_on_the_card(live_server, page, titulaire_with_rights, width):
    organisme = OrganismeFactory(raison_sociale="CP-FORMATION")
    staff = OrganismeStaffFactory(organisme=organisme)
    dossier = f.service_done(titulaire_with_rights, f.session_for(organisme), staff)
    search_terms_refresh()
    page.set_viewport_size({"width": width, "height": 900})
    login(page, live_server, titulaire_with_rights.email)

    page.goto(live_server.url + "/mes-dossiers/")
    call = page.get_by_role("link", name=re.compile(r"^Évaluer « Anglais"))
    expect(call).to_be_visible()
    call.click()
    expect(page.get_by_role("heading", name="Évaluer ma formation", level=1)).to_be_visible()

    # The keyboard alone: Space ticks, arrows choose the stars in each group, Enter sends.
    confirmation = page.get_by_role("checkbox", name="Je confirme avoir suivi cette formation")
    tab_until(page, confirmation)
    page.keyboard.press("Space")
    for criterion, stars in STARS.items():
        group = page.get_by_role("group", name=re.compile("^" + re.escape(criterion)))
        tab_until(page, group.get_by_role("radio", name="1 étoile", exact=True))
        for _ in range(stars - 1):
            page.keyboard.press("ArrowRight")
        expect(group.get_by_role("radio", name=f"{stars} étoile{'s' if stars > 1 else ''}", exact=True)).to_be_checked()
    comment = field(page, "Votre commentaire")
    tab_until(page, comment)
    page.keyboard.type("Formateur disponible, exercices utiles.")
    tab_until(page, page.get_by_role("button", name="Envoyer mon évaluation"))
    with page.expect_navigation():
        page.keyboard.press("Enter")

    expect(page.get_by_text("Merci, votre évaluation est enregistrée.")).to_be_visible()
    expect(page.get_by_role("heading", name="Votre évaluation")).to_be_visible()
    evaluation = Evaluation.objects.get(dossier=dossier)
    assert (evaluation.accueil, evaluation.contenu, evaluation.equipe, evaluation.moyens, evaluation.accompagnement) == (5, 4, 5, 3, 4)

    # The rating on the formation's card in the search results, then on its page.
    page.goto(live_server.url + "/formations/recherche/?quoi=anglais&tri=note")
    card = page.locator(".fr-card", has=page.get_by_role("link", name=dossier.formation.intitule, exact=True))
    expect(card.get_by_text("4,2 / 5 (1 évaluation)")).to_be_visible()
    card.get_by_role("link", name=dossier.formation.intitule, exact=True).click()
    expect(page.get_by_role("heading", name="Avis des stagiaires")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile(r"^Équipe pédagogique 5,0 \/ 5"))).to_be_visible()
    # The comment waits for the operators: not public yet.
    expect(page.get_by_text("Formateur disponible, exercices utiles.")).to_have_count(0)
