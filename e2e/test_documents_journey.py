"""« Mes documents » in a real browser, at 1280 and 390 px: the titulaire generates an
attestation de droits and downloads each PDF; its text holds the expected figures."""

import io

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from pypdf import PdfReader

from accounts.tests.factories import OrganismeStaffFactory, TitulaireFactory
from catalogue.tests.factories import OrganismeFactory
from cpf_portal.money import euros
from documents.pdf import money
from dossiers.tests import factories as f
from dossiers.workflow import Status
from e2e.conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def pdf_text(download) -> str:
    """The downloaded PDF's text, cells and wrapped lines joined by single spaces."""
    with open(download.path(), "rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


@pytest.mark.parametrize("width", [1280, 390])
def test_titulaire_downloads_each_document(live_server, page, width, screenshot):
    page.set_viewport_size({"width": width, "height": 900})
    organisme = OrganismeFactory(raison_sociale="CP-FORMATION")
    titulaire = TitulaireFactory(first_name="Camille", last_name="Durand", email="camille@exemple.fr", employment_status="salarie")
    f.give_rights(titulaire, 50_000)  # below the price: card money whatever the participation in force
    staff = OrganismeStaffFactory(organisme=organisme)
    paid = f.accepted(titulaire, f.session_for(organisme), staff)
    finished = f.dossier_in(Status.DEBITED, titulaire=titulaire, session=f.session_for(organisme), organisme_user=staff)
    paid.refresh_from_db()
    payment = paid.payment

    login(page, live_server, titulaire.email)
    page.goto(live_server.url + "/mon-compte/")
    page.get_by_role("link", name="Mes documents").click()
    expect(page).to_have_title("Mes documents – Mon Compte Formation")
    page.get_by_role("button", name="Générer une attestation de droits à la date du jour").click()
    today = timezone.localdate()
    expect(page.get_by_text(f"Votre attestation de droits au {today:%d/%m/%Y} est prête")).to_be_visible()
    screenshot(f"mes-documents-{width}")

    with page.expect_download() as info:
        page.get_by_role("link", name=f"Attestation de droits au {today:%d/%m/%Y}").click()
    download = info.value
    assert download.suggested_filename == f"attestation-de-droits-au-{today:%d-%m-%Y}.pdf"
    content = pdf_text(download)
    # 500 € credited, all of it blocked today by the first dossier (the second one had no
    # rights left): the balances at the end of today.
    assert paid.droits_cents == 50_000 and finished.droits_cents == 0
    assert "Droits acquis 500,00 €" in content
    assert "Droits bloqués (formations acceptées) 500,00 €" in content
    assert "Droits disponibles 0,00 €" in content
    assert f"Droits bloqués pour le dossier n° {paid.numero} {money(paid.droits_cents)} bloqués" in content

    with page.expect_download() as info:
        page.get_by_role("link", name=f"Reçu n° {payment.receipt_number}").click()
    content = pdf_text(info.value)
    assert info.value.suggested_filename == f"recu-de-paiement-{payment.receipt_number}.pdf"
    assert f"Reçu de paiement n° {payment.receipt_number}" in content
    assert f"Montant payé {money(payment.amount_cents)}" in content and f"Droits formation {money(-paid.droits_cents)}" in content
    expect(page.get_by_role("link", name=f"Reçu n° {payment.receipt_number}")).to_contain_text(euros(payment.amount_cents))

    with page.expect_download() as info:
        page.get_by_role("link", name="Certificat de réalisation —").click()
    content = pdf_text(info.value)
    assert info.value.suggested_filename == f"certificat-de-realisation-dossier-{finished.numero}.pdf"
    assert "Certificat de réalisation" in content and "Camille Durand" in content and "CP-FORMATION" in content
    assert f"Dossier n° {finished.numero}" in content and "Heures réalisées 10 h" in content
