"""Words and states in a real browser at 390 px: « Mes dossiers » reads as stacked cards (each
cell under the other, its column's name above its value) while staying a table for screen
readers; the card form's fields carry the browser's card autofill names and are as wide as
what they hold; a training is cancelled through its confirmation page."""

import pytest
from playwright.sync_api import expect

from dossiers.tests import factories as f
from e2e.conftest import add_authenticator_app, field, login

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}


def test_my_dossiers_are_stacked_cards_at_390_px(live_server, page, titulaire_with_rights, organisme, session):
    titulaire = titulaire_with_rights
    f.sent(titulaire, session)
    f.draft(titulaire, f.session_for(organisme))
    page.set_viewport_size(PHONE)
    login(page, live_server, titulaire.email)
    page.goto(live_server.url + "/mes-dossiers/")

    table = page.get_by_role("table", name="Mes dossiers de formation")
    expect(table).to_be_visible()  # still a table for assistive technologies
    expect(table.get_by_role("columnheader", name="Prochaine étape")).to_have_count(1)
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(2)
    for index in range(2):
        cells = rows.nth(index).locator("td")
        boxes = [cells.nth(i).bounding_box() for i in range(cells.count())]
        assert len(boxes) == 5
        for above, below in zip(boxes, boxes[1:], strict=False):
            assert below["y"] >= above["y"] + above["height"] - 1  # one under the other
            assert abs(below["x"] - above["x"]) < 1  # aligned on the card's left edge
        assert all(box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] for box in boxes)
        labels = [cells.nth(i).evaluate("cell => getComputedStyle(cell, '::before').content") for i in range(5)]
        assert labels == ['"Dossier"', '"Formation"', '"État"', '"Prochaine étape"', '"Échéance"']
    expect(table.get_by_text("Envoyé", exact=True)).to_be_visible()
    # The header row is there for screen readers only.
    header = table.locator("thead").bounding_box()
    assert header["width"] <= 1 and header["height"] <= 1
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # At 1280 px, the same table is a table again.
    page.set_viewport_size({"width": 1280, "height": 900})
    cells = rows.first.locator("td")
    assert cells.nth(0).evaluate("cell => getComputedStyle(cell).display") == "table-cell"
    assert cells.nth(1).evaluate("cell => getComputedStyle(cell, '::before').content") == "none"


def test_the_card_form_at_390_px(live_server, page, titulaire_with_rights, organisme_user, session):
    titulaire = titulaire_with_rights
    proposed = f.proposed(titulaire, session, organisme_user)
    page.set_viewport_size(PHONE)
    login(page, live_server, titulaire.email)
    page.goto(live_server.url + "/mon-compte/securite/")
    codes = add_authenticator_app(page)
    page.goto(live_server.url + f"/mes-dossiers/{proposed.numero}/acceptation/")
    field(page, "Code de mon application d'authentification").fill(codes[0])
    page.get_by_role("button", name="Confirmer avec le code de l'application").click()
    expect(page.get_by_text("Votre identité est confirmée.")).to_be_visible()

    expected = {
        "Numéro de carte": ("cc-number", "numeric"),
        "Nom du titulaire de la carte": ("cc-name", None),
        "Date d'expiration": ("cc-exp", "numeric"),
        "Cryptogramme visuel": ("cc-csc", "numeric"),
    }
    widths = {}
    for label, (autocomplete, inputmode) in expected.items():
        control = field(page, label)
        expect(control).to_have_attribute("autocomplete", autocomplete)
        if inputmode:
            expect(control).to_have_attribute("inputmode", inputmode)
        widths[label] = control.bounding_box()["width"]
    # Sized to their content: MM/AA and 3 digits are short fields, the number a longer one.
    assert widths["Cryptogramme visuel"] < widths["Date d'expiration"] < widths["Numéro de carte"] < PHONE["width"] - 20
    assert widths["Date d'expiration"] < 150


def test_a_training_is_cancelled_through_its_confirmation_page(live_server, page, titulaire_with_rights, organisme_user, session):
    titulaire = titulaire_with_rights
    accepted = f.accepted(titulaire, session, organisme_user)
    page.set_viewport_size(PHONE)
    login(page, live_server, titulaire.email)
    page.goto(live_server.url + f"/mes-dossiers/{accepted.numero}/")
    expect(page.get_by_label("Motif de l'annulation")).to_have_count(0)  # nothing unfolded on the dossier's page
    page.get_by_role("link", name="Annuler ma formation").click()
    expect(page.get_by_role("heading", name="Annuler ma formation ?")).to_be_visible()
    expect(page.get_by_text("l'annulation est sans frais", exact=False)).to_be_visible()
    page.get_by_role("link", name="Garder ma formation").click()
    expect(page.locator("#etat")).to_contain_text("Accepté")
    page.get_by_role("link", name="Annuler ma formation").click()
    field(page, "Motif de l'annulation").fill("Changement de projet")
    page.get_by_role("button", name="Annuler ma formation").click()
    expect(page.get_by_text("Votre formation est annulée.")).to_be_visible()
    expect(page.locator("#etat")).to_contain_text("Annulé à votre demande")
