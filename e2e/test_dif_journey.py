import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from e2e.conftest import field, login, tick
from financing.tests.factories import PDF_BYTES


@pytest.mark.django_db(transaction=True)
def test_titulaire_enters_120_hours_of_dif_and_sees_1800_euros(live_server, page, titulaire, settings, tmp_path, screenshot):
    settings.CPF_DIF_DEADLINE = timezone.localdate() + datetime.timedelta(days=30)
    attestation = tmp_path / "attestation-dif.pdf"
    attestation.write_bytes(PDF_BYTES)
    login(page, live_server, titulaire.email)

    page.get_by_role("link", name="Mes droits formation").first.click()
    expect(page.locator("#droits-disponibles")).to_have_text("0,00\u00a0€")
    page.get_by_role("link", name="Saisir mon solde DIF").click()
    expect(page).to_have_title("Saisir mon solde DIF – Mon Compte Formation")

    tick(page, "Un seul employeur")
    first = page.get_by_role("group", name="Attestation 1", exact=True)
    field(first, "Employeur").fill("Boulangerie Martin")
    field(first, "Heures DIF indiquées sur l'attestation").fill("120")
    field(first, "Date de l'attestation").fill("2014-12-31")
    field(first, "Attestation (PDF, JPEG ou PNG, 5 Mo maximum)").set_input_files(str(attestation))
    expect(page.get_by_text("120 h → 1\u202f800,00\u00a0€")).to_be_visible()  # live conversion, two decimals
    screenshot("saisie-dif")
    page.get_by_role("button", name="Enregistrer").click()

    expect(page.get_by_role("heading", name="Mes droits formation", level=1)).to_be_visible()
    expect(page.get_by_text("120 h de DIF enregistrées")).to_be_visible()
    expect(page.locator("#droits-disponibles")).to_have_text("1\u202f800,00\u00a0€")
    expect(page.get_by_role("cell", name="Heures DIF : 120 h × 15 €")).to_be_visible()
    screenshot("mes-droits")
