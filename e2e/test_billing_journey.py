"""The organisme's money loop in a real browser: it bills two trained dossiers in one
invoice, downloads the PDF (its text holds the number and the amount), the operator puts the
invoice in a payment batch and marks the batch executed in the admin, and the organisme sees
« Payé »."""

import re

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from accounts.tests.factories import OperatorFactory, OrganismeStaffFactory
from billing.models import Invoice, PaymentBatch
from billing.tests.conftest import finished
from catalogue.tests.factories import OrganismeFactory
from dossiers.tests import factories as f
from e2e.conftest import field, login, tick


@pytest.mark.django_db(transaction=True)
def test_the_organisme_bills_two_dossiers_and_gets_paid(live_server, page, tmp_path, screenshot):
    organisme = OrganismeFactory(raison_sociale="CP-FORMATION", email="inscriptions@cp-formation.example")
    staff = OrganismeStaffFactory(organisme=organisme, email="agent@cp-formation.example")
    operator = OperatorFactory(email="operateur@moncompteformation.example")
    first = finished(staff, f.session_for(organisme, price_cents=87_000))
    second = finished(staff, f.session_for(organisme, price_cents=120_000, tva=2000))

    # --- Bank details first (the invoice carries them), then the two dossiers in one invoice.
    login(page, live_server, staff.email)
    page.get_by_role("link", name="Facturation").first.click()
    expect(page.get_by_text("Coordonnées bancaires manquantes")).to_be_visible()
    page.get_by_role("link", name="Renseigner les coordonnées bancaires").click()
    field(page, "Titulaire du compte").fill("CP-FORMATION")
    field(page, "IBAN").fill("FR76 3000 4000 0100 0012 3456 788")
    field(page, "BIC").fill("BNPAFRPPXXX")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Cet IBAN n'est pas valide").first).to_be_visible()
    field(page, "IBAN").fill("FR76 3000 4000 0100 0012 3456 789")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Les coordonnées bancaires sont enregistrées.")).to_be_visible()
    page.get_by_role("link", name="Dossiers à facturer").click()
    tick(page, f"Facturer le dossier n° {first.numero}")
    tick(page, f"Facturer le dossier n° {second.numero}")
    screenshot("facturation-selection")
    page.get_by_role("button", name="Facturer la sélection").click()
    expect(page.get_by_text("La facture n° 000001 est émise (2\u202f070,00\u00a0€).")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger la facture n° 000001 (PDF)").click()
    path = tmp_path / "facture.pdf"
    download.value.save_as(path)
    content = "\n".join(p.extract_text() for p in PdfReader(path).pages)
    assert "Facture n° 000001" in content and "2 070,00 €" in content and "SIRET " + organisme.siret in content
    screenshot("facture")

    # --- The operator runs the payment batch from the admin.
    login(page, live_server, operator.email)
    page.goto(live_server.url + "/admin/billing/invoice/")
    page.get_by_role("checkbox", name=re.compile("Sélectionner")).first.check()
    page.get_by_role("combobox", name="Action").select_option("prepare_batch")
    page.get_by_role("button", name="Envoyer").click()
    expect(page.get_by_text(re.compile(r"Lot CPF-.* préparé : 1 virement\(s\)"))).to_be_visible()
    batch = PaymentBatch.objects.get()
    page.goto(live_server.url + "/admin/billing/paymentbatch/")
    page.get_by_role("checkbox", name=re.compile("Sélectionner")).first.check()
    page.get_by_role("combobox", name="Action").select_option("execute")
    page.get_by_role("button", name="Envoyer").click()
    expect(page.get_by_text("1 facture(s) payée(s) ; les organismes sont prévenus.")).to_be_visible()

    # --- The organisme sees it paid: on « Suivi des règlements », the invoice and each dossier.
    login(page, live_server, staff.email)
    page.goto(live_server.url + "/espace-organisme/facturation/factures/")
    row = page.get_by_role("row", name=re.compile("000001"))
    expect(row.get_by_text("Payée")).to_be_visible()
    expect(row.get_by_text(batch.reference)).to_be_visible()
    page.goto(live_server.url + f"/espace-organisme/dossiers/{first.numero}/")
    expect(page.locator("#facturation")).to_have_text("Payé")
    screenshot("dossier-paye")
    assert Invoice.objects.get().status == Invoice.Status.PAID
