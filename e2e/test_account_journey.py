import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from accounts.models import User
from e2e.conftest import field, tick


@pytest.mark.django_db(transaction=True)
def test_new_user_signs_up_activates_with_the_emailed_code_and_logs_in(live_server, page, screenshot, send_queued_emails):
    page.goto(live_server.url)
    expect(page.locator("html")).to_have_attribute("data-fr-js", "true")  # DSFR's JavaScript started
    page.get_by_role("link", name="Je crée mon compte").first.click()
    expect(page).to_have_title("Je crée mon compte – Mon Compte Formation")

    field(page, "Numéro de sécurité sociale").fill("2 95 10 99 126 111 93")
    field(page, "Nom de naissance").fill("Durand")
    field(page, "Prénom").fill("Camille")
    field(page, "Date de naissance").fill("1995-10-03")
    field(page, "Adresse électronique").fill("camille.durand@exemple.fr")
    field(page, "Confirmation de l'adresse électronique").fill("camille.durand@exemple.fr")
    field(page, "Mot de passe").fill("Formation2020")
    field(page, "Confirmation du mot de passe").fill("Formation2020")
    tick(page, "J'ai lu et j'accepte les conditions générales d'utilisation")
    screenshot("inscription")
    page.get_by_role("button", name="Créer mon compte").click()

    expect(page.get_by_role("heading", name="Activation de mon compte")).to_be_visible()
    send_queued_emails()
    assert len(mail.outbox) == 1
    code = re.search(r"\b(\d{6})\b", mail.outbox[0].body).group(1)
    field(page, "Code reçu par courriel").fill(code)
    page.get_by_role("button", name="Continuer").click()

    expect(page.get_by_text("Votre compte est activé")).to_be_visible()
    field(page, "Numéro de sécurité sociale ou adresse électronique").fill("295109912611193")
    field(page, "Mot de passe").fill("Formation2020")
    page.get_by_role("button", name="Se connecter").click()

    expect(page.get_by_role("heading", name="Mon compte", level=1)).to_be_visible()
    expect(page.get_by_text("Bonjour Camille.")).to_be_visible()
    screenshot("mon-compte")
    assert User.objects.get(nir="295109912611193").is_activated


@pytest.mark.django_db(transaction=True)
def test_signup_errors_are_shown_next_to_the_fields(live_server, page):
    page.goto(live_server.url + "/inscription/")
    field(page, "Numéro de sécurité sociale").fill("295109912611199")
    page.get_by_role("button", name="Créer mon compte").click()
    expect(page.get_by_role("heading", name=re.compile("Le formulaire contient"))).to_be_visible()
    nir_input = field(page, "Numéro de sécurité sociale")
    expect(nir_input).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_nir-desc-error")).to_contain_text("La clé")
    assert User.objects.count() == 0
