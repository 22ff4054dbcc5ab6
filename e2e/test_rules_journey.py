"""The rules of 2026 in a browser: a bilan de compétences at 2 000 € shows 1 600 € of rights
(its cap), 400 € of reste à payer which includes the participation forfaitaire, and says why;
a salarié's permis B is sent only once his employer's 100 € co-financing is declared."""

import datetime

import pytest
from playwright.sync_api import expect

from catalogue.tests.factories import CertificationFactory, FormationFactory, SessionFactory, commune
from dossiers.tests import factories as f
from e2e.conftest import login, tick
from financing.models import DatedRule, FundingCap, ParticipationForfaitaire


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


@pytest.mark.django_db(transaction=True)
def test_a_salarie_sends_his_permis_only_with_100_euros_from_his_employer(live_server, page, titulaire, screenshot):
    DatedRule.objects.get_or_create(key=DatedRule.Key.PERMIS_MIN_COFINANCING, start_date=datetime.date(2026, 3, 1), defaults={"value": 10_000})
    FundingCap.objects.get_or_create(action_type="PERMIS", start_date=datetime.date(2026, 3, 1), defaults={"amount_cents": 90_000})
    f.give_rights(titulaire, 150_000)
    permis = FormationFactory(intitule="Permis B à Metz", certification=CertificationFactory(type="PERMIS", code="PERMIS-B"))
    session = SessionFactory(formation=permis, commune=commune("metz"), price_cents=120_000, duree_heures=30, start_date=f.start_in_working_days(20))
    dossier = f.draft(titulaire, session)  # a salarié (the factories' situation), his information validated
    login(page, live_server, titulaire.email)
    page.goto(f"{live_server.url}/mes-dossiers/{dossier.numero}/")
    refusal = page.locator("#envoi-impossible")
    expect(refusal).to_contain_text(
        "Le CPF ne finance un permis de conduire que pour un demandeur d'emploi, ou avec un cofinancement d'au moins 100,00\u00a0€"
    )
    expect(page.get_by_role("button", name="Envoyer mon dossier")).to_have_count(0)
    screenshot("permis-sans-cofinancement")
    # His employer gives 100 €: he declares it, the dossier can be sent.
    page.get_by_label("Qui cofinance votre formation ?").select_option("employeur")
    page.get_by_label("Nom du financeur").fill("Transports Lorrains")
    page.get_by_label("Montant du cofinancement (€)").fill("100,00")
    page.get_by_role("button", name="Déclarer ce cofinancement").click()
    expect(page.get_by_text("Cofinancement de 100,00\u00a0€ déclaré").first).to_be_visible()
    expect(refusal).to_have_count(0)
    # 1 200 € = 100 € from his employer + 900 € of rights (the permis' cap) + 200 € to pay, without
    # participation forfaitaire since his employer co-finances.
    expect(page.locator("#droits-formation").first).to_have_text("− 900,00\u00a0€")
    expect(page.locator("#reste-a-payer").first).to_have_text("200,00\u00a0€")
    expect(page.get_by_text("Pas de participation forfaitaire obligatoire : votre employeur abonde votre formation.").first).to_be_visible()
    tick(page, "J'accepte de prendre en charge le reste à payer de 200,00")
    page.get_by_role("button", name="Envoyer mon dossier").click()
    expect(page.get_by_text(f"Votre dossier n° {dossier.numero} est envoyé à l'organisme de formation.").first).to_be_visible()
    screenshot("permis-envoye")
