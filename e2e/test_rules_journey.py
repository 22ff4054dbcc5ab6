"""The rules of 2026 in a browser: a bilan de compétences at 2 000 € shows 1 600 € of rights
(its cap), 400 € of reste à payer which includes the participation forfaitaire, and says why."""

import datetime

import pytest
from playwright.sync_api import expect

from catalogue.tests.factories import CertificationFactory, FormationFactory, SessionFactory, commune
from dossiers.tests import factories as f
from e2e.conftest import login
from financing.models import FundingCap, ParticipationForfaitaire


@pytest.mark.django_db(transaction=True)
def test_a_bilan_at_2000_euros_is_capped_at_1600_euros_of_rights(live_server, page, titulaire, screenshot):
    # The rows of the data migrations (a transactional test may find the tables emptied by another).
    FundingCap.objects.get_or_create(action_type="BILAN", start_date=datetime.date(2026, 3, 1), defaults={"amount_cents": 160_000})
    ParticipationForfaitaire.objects.get_or_create(start_date=datetime.date(2026, 1, 1), defaults={"amount_cents": 10_320})
    f.give_rights(titulaire, 500_000)
    bilan = FormationFactory(intitule="Bilan de compétences à Metz", certification=CertificationFactory(type="BILAN", code="BILAN"))
    session = SessionFactory(formation=bilan, commune=commune("metz"), price_cents=200_000, duree_heures=24, start_date=f.start_in_working_days(20))
    dossier = f.draft(titulaire, session)  # registered, its information validated
    login(page, live_server, titulaire.email)
    page.goto(f"{live_server.url}/mes-dossiers/{dossier.numero}/")
    expect(page.get_by_role("heading", name=f"Dossier n° {dossier.numero}")).to_be_visible()
    expect(page.locator("#droits-formation").first).to_have_text("− 1\u202f600,00\u00a0€")
    expect(page.locator("#reste-a-payer").first).to_have_text("400,00\u00a0€")
    expect(page.get_by_text("Vos droits peuvent financer au plus 1\u202f600,00\u00a0€ pour un bilan de compétences.").first).to_be_visible()
    expect(page.get_by_text("Le reste à payer inclut la participation forfaitaire obligatoire de 103,20\u00a0€.").first).to_be_visible()
    screenshot("bilan-plafonne")
