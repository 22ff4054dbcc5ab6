"""« Demander un financement complémentaire » in a browser, at 1280 and 390 px: a jobseeker
(no participation forfaitaire) has 750 € of rights for an 870 € training; he asks France
Travail, his interlocuteur, for the 120 € left; the conseiller grants them; his dossier page
then shows the abondement and nothing left to pay."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from accounts.tests.factories import ConseillerFactory, OrganismeStaffFactory, StructureFactory, TitulaireFactory
from catalogue.tests.factories import OrganismeFactory
from dossiers import services
from dossiers.tests import factories as f
from dossiers.workflow import Actor
from e2e.conftest import field, login


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.django_db(transaction=True)
def test_the_titulaire_asks_the_conseiller_grants_and_the_split_follows(live_server, page, screenshot, send_queued_emails, width):
    page.set_viewport_size({"width": width, "height": 900})
    structure = StructureFactory(name="France Travail Metz")
    conseiller = ConseillerFactory(structure=structure, email="conseil@france-travail.example", first_name="Sacha", last_name="Bernard")
    titulaire = TitulaireFactory(first_name="Camille", last_name="Durand", email="camille@exemple.fr", interlocuteur=structure)
    f.give_rights(titulaire, 75_000)
    organisme = OrganismeFactory(raison_sociale="CP-FORMATION")
    session = f.session_for(organisme, price_cents=87_000)
    draft = f.draft(titulaire, session, employment_status="demandeur_emploi")
    services.dossier_transition(dossier_id=draft.pk, name="send", actor=Actor.TITULAIRE, by=titulaire, payload={"consent": True})
    payload = {"price_cents": 87_000, "start_date": session.start_date, "end_date": session.end_date, "duree_heures": session.formation.duree_heures}
    dossier = services.dossier_transition(
        dossier_id=draft.pk, name="propose", actor=Actor.ORGANISME, by=OrganismeStaffFactory(organisme=organisme), payload=payload
    )

    # The titulaire: 120 € left to pay; he asks his interlocuteur.
    login(page, live_server, titulaire.email)
    page.goto(f"{live_server.url}/mes-dossiers/{dossier.numero}/")
    section = page.locator("#financement-complementaire")
    expect(section).to_contain_text("Votre demande sera envoyée à France Travail Metz")
    field(page, "Montant demandé (€)").fill("120,00")
    field(page, "Votre message au conseiller").fill("Inscrit à France Travail depuis mars, ce titre vise un poste de cariste.")
    page.get_by_role("button", name="Demander un financement complémentaire").click()
    expect(page.get_by_text("Votre demande de financement complémentaire est envoyée à France Travail Metz.")).to_be_visible()
    expect(section).to_contain_text("En attente de réponse")
    screenshot(f"financement-demande-{width}")
    send_queued_emails()
    assert any(message.to == ["conseil@france-travail.example"] and dossier.numero in message.subject for message in mail.outbox)

    # The conseiller: the request waits in his space; he grants the 120 € asked.
    login(page, live_server, conseiller.email)
    page.goto(f"{live_server.url}/espace-conseiller/")
    expect(page.locator("#demandes-en-attente")).to_contain_text("1 demande attend votre réponse.")
    page.get_by_role("link", name="Voir les demandes de financement").click()
    page.get_by_role("link", name=re.compile(f"Dossier n° {dossier.numero}")).click()
    expect(page.get_by_text("Inscrit à France Travail depuis mars")).to_be_visible()
    expect(page.locator("#reste-a-payer")).to_have_text("120,00\u00a0€")
    expect(field(page, "Montant de l'abondement accordé (€)")).to_have_value("120,00")
    page.get_by_role("button", name="Accorder l'abondement").click()
    expect(page.get_by_text("Abondement de 120,00\u00a0€ accordé")).to_be_visible()
    expect(page.get_by_role("button", name="Accorder l'abondement")).to_have_count(0)
    screenshot(f"financement-accorde-conseiller-{width}")

    # The titulaire: told, and his dossier shows the new split.
    login(page, live_server, titulaire.email)
    page.goto(f"{live_server.url}/mes-dossiers/{dossier.numero}/")
    expect(section).to_contain_text("France Travail Metz finance 120,00\u00a0€ de votre formation")
    expect(section).to_contain_text("Accordée")
    expect(page.get_by_role("row", name=re.compile("^Abondement France Travail"))).to_contain_text("− 120,00\u00a0€")
    expect(page.locator("#droits-formation")).to_have_text("− 750,00\u00a0€")
    expect(page.locator("#reste-a-payer")).to_have_text("0,00\u00a0€")
    screenshot(f"financement-accorde-titulaire-{width}")
    page.goto(f"{live_server.url}/mes-notifications/")
    expect(page.get_by_text(f"Financement complémentaire accordé : 120,00\u00a0€ pour votre dossier n° {dossier.numero}").first).to_be_visible()
