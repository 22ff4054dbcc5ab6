"""A team in a real browser: the Responsable des accès invites a Lecteur by e-mail; the
Lecteur opens the link, creates an account, enrols an authenticator app (the code computed
from the key the page shows, as the app would), logs in again with a code, and reads a
dossier without any « Valider » button."""

import base64
import re

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import expect

from accounts.tests.factories import OrganismeStaffFactory, TitulaireFactory
from catalogue.tests.factories import OrganismeFactory
from dossiers.tests import factories as f
from e2e.conftest import field, login, tick
from equipes.models import Membership, TeamRole
from notifications.models import Email
from notifications.services import unseal


@pytest.mark.django_db(transaction=True)
def test_a_responsable_invites_a_lecteur_who_logs_in_with_totp_and_cannot_validate(live_server, page, screenshot):
    organisme = OrganismeFactory(raison_sociale="CP-FORMATION", email="inscriptions@cp-formation.example")
    responsable = OrganismeStaffFactory(organisme=organisme, email="responsable@cp-formation.example")
    titulaire = TitulaireFactory()
    f.give_rights(titulaire, 150_000)
    dossier = f.sent(titulaire, f.session_for(organisme))

    # --- The Responsable (first login: enrols the app) invites a Lecteur.
    login(page, live_server, responsable.email)
    page.get_by_role("link", name="Mon équipe").first.click()
    field(page, "Adresse électronique de la personne").fill("lea.fontaine@cp-formation.example")
    tick(page, "Lecteur")
    page.get_by_role("button", name="Envoyer l'invitation").click()
    expect(page.get_by_text("L'invitation est envoyée à lea.fontaine@cp-formation.example")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("lea.fontaine@cp-formation.example Lecteur"))).to_be_visible()
    screenshot("equipe-invitation")
    link = re.search(r"(/espace-organisme/invitation/\S+/)", unseal(Email.objects.get(to="lea.fontaine@cp-formation.example").sealed)[1]).group(1)

    # --- The Lecteur opens the link in a fresh browser, creates an account and enrols the app.
    page.context.clear_cookies()
    page.goto(live_server.url + link)
    expect(page.get_by_text("vous invite dans son espace organisme, avec le rôle : Lecteur")).to_be_visible()
    field(page, "Prénom").fill("Léa")
    field(page, "Nom").fill("Fontaine")
    field(page, "Mot de passe").fill("Apprendre2026!")
    field(page, "Confirmation du mot de passe").fill("Apprendre2026!")
    page.get_by_role("button", name="Créer mon compte et accepter l'invitation").click()
    expect(page.get_by_role("heading", name="Activer la double authentification")).to_be_visible()
    secret = page.locator("#cle-secrete").inner_text().replace(" ", "")
    key = base64.b32decode(secret)
    field(page, "Code de vérification").fill("000000")
    page.get_by_role("button", name="Activer").click()
    expect(page.get_by_text("Ce code n'est pas le bon").first).to_be_visible()
    page.wait_for_timeout(1100)  # the throttle after a wrong code
    field(page, "Code de vérification").fill(f"{TOTP(key).token():06d}")
    page.get_by_role("button", name="Activer").click()
    expect(page.get_by_role("heading", name="Notez vos codes de secours maintenant")).to_be_visible()
    assert page.locator(".cpf-recovery-codes li").count() == 10
    screenshot("codes-de-secours")
    page.get_by_role("link", name="J'ai noté mes codes, continuer").click()
    expect(page.get_by_text("Bonjour Léa (Lecteur)")).to_be_visible()
    assert Membership.objects.get(user__email="lea.fontaine@cp-formation.example").roles == [TeamRole.LECTEUR]

    # --- Next day, a new login asks the code, then the dossier shows no action.
    login(page, live_server, "lea.fontaine@cp-formation.example", "Apprendre2026!")
    expect(page.get_by_text("Bonjour Léa (Lecteur)")).to_be_visible()
    page.goto(live_server.url + f"/espace-organisme/dossiers/{dossier.numero}/")
    expect(page.get_by_role("heading", name=f"Dossier n° {dossier.numero}")).to_be_visible()
    expect(page.get_by_role("button", name="Valider")).to_have_count(0)
    expect(page.get_by_role("button", name="Refuser")).to_have_count(0)
    screenshot("dossier-lecteur")
