"""The seed's whole journey, in a real browser: signup → DIF of 50 h (750 €) → « anglais »
near Metz → the 870 € session → dossier → informations → 750 € of rights, 120 € reste à payer
→ « Envoyer mon dossier » → the organisme validates → the titulaire accepts and pays → entry
→ service fait → the rights are debited and shown in the history."""

import datetime
import re

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from accounts.tests.factories import OrganismeStaffFactory
from catalogue.seed import ensure_seed_example
from catalogue.services import search_terms_refresh
from catalogue.tests.factories import OrganismeFactory, commune
from dossiers import services
from dossiers.models import Dossier
from dossiers.workflow import Status
from e2e.conftest import add_authenticator_app, field, login, pay_by_card, sign_up, tick
from financing.tests.factories import PDF_BYTES

SEED_TITLE = "Anglais - Test Bright Language - évaluation d'Anglais professionnel"


def signup(page, live_server, send_queued_emails):
    page.goto(live_server.url + "/inscription/")
    sign_up(
        page,
        send_queued_emails,
        nir="2 95 10 99 126 111 93",
        last_name="Durand",
        first_name="Camille",
        birth_date="1995-10-03",
        email="camille.durand@exemple.fr",
    )


@pytest.mark.django_db(transaction=True)
def test_the_seed_journey_end_to_end(live_server, page, browser, browser_context_args, settings, tmp_path, screenshot, send_queued_emails):
    settings.CPF_DIF_DEADLINE = timezone.localdate() + datetime.timedelta(days=60)
    organisme = OrganismeFactory(raison_sociale="CP-FORMATION", email="inscriptions@cp-formation.example")
    staff = OrganismeStaffFactory(organisme=organisme, email="agent@cp-formation.example")
    ensure_seed_example(organisme, today=timezone.localdate())
    commune("montigny")
    search_terms_refresh()
    attestation = tmp_path / "attestation.pdf"
    attestation.write_bytes(PDF_BYTES)

    # --- The titulaire opens an account and enters 50 h of DIF.
    signup(page, live_server, send_queued_emails)
    login(page, live_server, "295109912611193")
    page.get_by_role("link", name="Mes droits formation").first.click()
    page.get_by_role("link", name="Saisir mon solde DIF").click()
    tick(page, "Un seul employeur")
    first = page.get_by_role("group", name="Attestation 1", exact=True)
    field(first, "Employeur").fill("Boulangerie Martin")
    field(first, "Heures DIF indiquées sur l'attestation").fill("50")
    field(first, "Date de l'attestation").fill("2014-12-31")
    field(first, "Attestation (PDF, JPEG ou PNG, 5 Mo maximum)").set_input_files(str(attestation))
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#droits-disponibles")).to_have_text("750,00\u00a0€")

    # --- She finds the training and builds her dossier.
    page.get_by_role("link", name="Rechercher une formation").first.click()
    field(page, "Quelle formation ?").fill("anglais")
    field(page, "Où ?").fill("Metz")
    page.get_by_role("button", name="Rechercher").click()
    page.get_by_role("link", name=SEED_TITLE, exact=True).click()
    expect(page.get_by_text("870,00\u00a0€").first).to_be_visible()
    page.get_by_role("link", name="S'inscrire à cette session").first.click()
    expect(page.get_by_text("Si vous travaillez actuellement dans la fonction publique")).to_be_visible()
    page.get_by_role("button", name="Continuer").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Dossier n° \d{10}$"))).to_be_visible()
    numero = Dossier.objects.get().numero

    pro = page.get_by_role("group", name="Mes informations professionnelles")
    pro.get_by_label("Diplôme le plus élevé obtenu").select_option("niv4")
    field(pro, "Année d'obtention").fill("2013")
    pro.get_by_label("Catégorie socio-professionnelle").select_option("5")
    pro.get_by_label("Situation professionnelle").select_option("salarie")
    perso = page.get_by_role("group", name="Mes informations personnelles")
    field(perso, "Téléphone mobile").fill("06 12 34 56 78")
    field(perso, "Confirmation du courriel").fill("camille.durand@exemple.fr")
    field(perso, "Numéro de voie").fill("12")
    perso.get_by_label("Type de voie").select_option("RUE")
    field(perso, "Libellé de la voie").fill("Serpenoise")
    field(perso, "Code postal").fill("57000")
    field(perso, "Ville").fill("Metz")
    page.get_by_role("button", name="Valider").click()

    expect(page.locator("#droits-formation")).to_have_text("− 750,00\u00a0€")
    expect(page.locator("#reste-a-payer")).to_have_text("120,00\u00a0€")
    screenshot("dossier-financement")
    tick(page, "J'accepte de prendre en charge le reste à payer de 120,00")
    page.get_by_role("button", name="Envoyer mon dossier").click()
    expect(page.get_by_text(f"Votre dossier n° {numero} est envoyé")).to_be_visible()
    send_queued_emails()
    assert f"[Non traité] Dossier de formation n° {numero}" in [m.subject for m in mail.outbox]

    # --- The organisme validates the request as it is.
    organisme_context = browser.new_context(**browser_context_args)
    org_page = organisme_context.new_page()
    login(org_page, live_server, staff.email)
    org_page.get_by_role("link", name="Dossiers de formation").first.click()
    org_page.get_by_role("link", name=f"Dossier n° {numero}").click()
    expect(org_page.get_by_role("heading", name="Vérifier, ajuster ou modifier la proposition")).to_be_visible()
    screenshot_page(org_page, "organisme-dossier")
    org_page.get_by_role("button", name="Valider").click()
    expect(org_page.get_by_text("Votre proposition est envoyée au titulaire.")).to_be_visible()

    # --- The titulaire accepts and pays the reste à payer.
    page.get_by_role("link", name="Mes dossiers").first.click()
    page.get_by_role("link", name=f"Dossier n° {numero}").click()
    expect(page.get_by_role("heading", name="Proposition de l'organisme")).to_be_visible()
    page.get_by_role("link", name="Accepter la proposition").click()
    # No strong factor yet: the purchase waits, and the page says how to add one.
    expect(page.get_by_role("heading", name="Aucun moyen de confirmation sur votre compte")).to_be_visible()
    expect(page.get_by_role("button", name="Payer 120,00\u00a0€ et accepter")).to_have_count(0)
    screenshot("acceptation-sans-moyen")
    accept_url = page.url
    page.get_by_role("link", name="Mon compte → Sécurité").click()
    codes = add_authenticator_app(page)
    page.goto(accept_url)
    field(page, "Code de mon application d'authentification").fill(codes[0])  # a recovery code works too
    page.get_by_role("button", name="Confirmer avec le code de l'application").click()
    expect(page.get_by_text("Votre identité est confirmée.")).to_be_visible()
    pay_by_card(page, "120,00\u00a0€")
    expect(page.get_by_text("Votre inscription est confirmée. Paiement de 120,00\u00a0€ accepté.")).to_be_visible()
    page.get_by_role("link", name="Mes droits formation").first.click()
    expect(page.locator("#droits-bloques")).to_have_text("750,00\u00a0€")
    expect(page.locator("#droits-disponibles")).to_have_text("0,00\u00a0€")

    # --- Weeks later: the organisme declares the entry, then the end and the service fait.
    dossier = Dossier.objects.get(numero=numero)
    first_day = datetime.datetime.combine(dossier.effective_start_date, datetime.time(9), tzinfo=datetime.UTC)
    with time_machine.travel(first_day, tick=True):
        login(org_page, live_server, staff.email)
        org_page.goto(f"{live_server.url}/espace-organisme/dossiers/{numero}/")
        org_page.get_by_role("button", name="Déclarer l'entrée en formation").click()
        expect(org_page.get_by_text("L'entrée en formation est déclarée.")).to_be_visible()
    last_day = datetime.datetime.combine(dossier.effective_end_date, datetime.time(17), tzinfo=datetime.UTC)
    with time_machine.travel(last_day, tick=True):
        login(org_page, live_server, staff.email)
        org_page.goto(f"{live_server.url}/espace-organisme/dossiers/{numero}/")
        org_page.get_by_text("Formation suivie en totalité").click()
        org_page.get_by_role("button", name="Déclarer la sortie / service fait").click()
        expect(org_page.get_by_text("La sortie de formation et le service fait sont déclarés.")).to_be_visible()
    organisme_context.close()

    # --- Five working days later, the service fait is validated (the periodic job).
    dossier.refresh_from_db()
    assert dossier.status == Status.SERVICE_DONE
    assert services.validate_due_services(now=dossier.deadline_at) == 1

    # --- The titulaire sees the debit in her history.
    with time_machine.travel(dossier.deadline_at + datetime.timedelta(hours=10), tick=True):
        login(page, live_server, "camille.durand@exemple.fr")
        page.get_by_role("link", name="Mes droits formation").first.click()
        debit = page.get_by_role("row", name=re.compile("Droits débités"))
        expect(debit.get_by_role("cell", name="−750,00\u00a0€", exact=True)).to_be_visible()
        expect(page.get_by_role("row", name=re.compile(r"750,00\s€ débloqués"))).to_be_visible()
        expect(page.locator("#droits-bloques")).to_have_text("0,00\u00a0€")
        screenshot("historique-debit")
    assert Dossier.objects.get(numero=numero).status == Status.DEBITED


def screenshot_page(page, name):
    from e2e.conftest import SCREENSHOTS

    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
