"""Strong confirmation in a browser: a titulaire registers a passkey (Chromium's virtual
authenticator stands for the phone) and accepts a proposal with it."""

import re

import pytest
from playwright.sync_api import expect

from dossiers.models import Dossier
from dossiers.states import Status
from dossiers.tests import factories as f
from e2e.conftest import field, login, pay_by_card
from securite.models import Passkey


@pytest.fixture
def virtual_authenticator(page):
    """A platform authenticator that says yes with the user verified (a phone unlocked)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    options = {
        "protocol": "ctap2",
        "transport": "internal",
        "hasResidentKey": True,
        "hasUserVerification": True,
        "isUserVerified": True,
        "automaticPresenceSimulation": True,
    }
    authenticator = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})["authenticatorId"]
    yield cdp, authenticator
    cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": authenticator})


@pytest.mark.django_db(transaction=True)
def test_a_passkey_registered_then_used_to_accept_a_proposal(
    live_server, page, titulaire, organisme, organisme_user, virtual_authenticator, screenshot
):
    cdp, authenticator = virtual_authenticator
    f.give_rights(titulaire, 75_000)
    dossier = f.proposed(titulaire, f.session_for(organisme), organisme_user)
    login(page, live_server, titulaire.email)
    page.goto(f"{live_server.url}/mon-compte/securite/")
    field(page, "Nom de la clé d'accès").fill("Mon téléphone")
    page.get_by_role("button", name="Enregistrer une clé d'accès").click()
    expect(page.get_by_text("Votre clé d'accès « Mon téléphone » est enregistrée.")).to_be_visible()
    assert Passkey.objects.filter(user=titulaire, name="Mon téléphone").exists()
    assert len(cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]) == 1
    screenshot("securite-cle-enregistree")

    page.goto(f"{live_server.url}/mes-dossiers/{dossier.numero}/acceptation/")
    page.get_by_role("button", name="Confirmer avec ma clé d'accès").click()
    expect(page.get_by_text("Votre identité est confirmée.")).to_be_visible()
    pay_by_card(page, "120,00\u00a0€")
    expect(page.get_by_text("Votre inscription est confirmée.").first).to_be_visible()
    assert Dossier.objects.get(pk=dossier.pk).status == Status.ACCEPTED
    assert Passkey.objects.get(user=titulaire).last_used_at is not None


@pytest.mark.django_db(transaction=True)
def test_not_me_freezes_the_account_and_cancels_a_dossier_within_its_retractation(
    live_server, page, titulaire, organisme, organisme_user, screenshot
):
    from notifications.models import Email
    from notifications.services import unseal
    from securite import services

    f.give_rights(titulaire, 150_000)
    bought = f.accepted(titulaire, f.session_for(organisme), organisme_user)  # by someone with the password
    services.purchase_made(user=titulaire, dossier=bought)
    _, body = unseal(Email.objects.get(template="securite/emails/purchase").sealed)
    link = re.search(r"(/ce-n-est-pas-moi/\S+/)", body).group(1)
    # The real titulaire reads the e-mail and opens the link, without logging in.
    page.goto(live_server.url + link)
    expect(page.get_by_text(f"Vous n'avez pas fait l'achat du dossier n° {bought.numero}")).to_be_visible()
    page.get_by_role("button", name="Bloquer mes achats").click()
    expect(page.get_by_role("heading", name="Vos achats sont bloqués")).to_be_visible()
    expect(page.get_by_text(f"Dossier n° {bought.numero}")).to_be_visible()
    screenshot("ce-n-est-pas-moi")
    assert Dossier.objects.get(pk=bought.pk).status == Status.CANCELLED_BY_TITULAIRE
    # Whoever logs in next cannot buy.
    proposal = f.proposed(titulaire, f.session_for(organisme), organisme_user)
    login(page, live_server, titulaire.email)
    page.goto(f"{live_server.url}/mes-dossiers/{proposal.numero}/acceptation/")
    expect(page.locator("#achats-bloques")).to_contain_text("Vos achats sont bloqués depuis le")
    expect(page.get_by_role("button", name="Payer 120,00\u00a0€ et accepter")).to_have_count(0)
