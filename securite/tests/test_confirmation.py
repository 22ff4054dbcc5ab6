"""Accepting a proposal (and so paying) needs a strong confirmation just before it: a passkey,
a recent FranceConnect+ login, a TOTP app, or (when the settings accept it) a code by e-mail."""

import datetime
import json

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP

from cpf_portal.testing import text
from dossiers.models import Dossier
from dossiers.states import Status
from dossiers.tests import factories as f
from notifications.models import Email
from securite import services
from securite.models import Passkey, StrongConfirmation
from securite.tests.authenticator import SoftAuthenticator

pytestmark = pytest.mark.django_db


@pytest.fixture
def proposal(titulaire_with_rights, organisme, organisme_user):
    return f.proposed(titulaire_with_rights, f.session_for(organisme), organisme_user)


def accept_url(dossier):
    return reverse("dossiers:accept", args=[dossier.numero])


def totp_code(device) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = timezone.now().timestamp()
    return f"{totp.token():06d}"


def enrol_totp(client):
    """Through « Mon compte → Sécurité »: scan (read the key), type the first code."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client.get(reverse("securite:totp-setup"))
    device = TOTPDevice.objects.get(confirmed=False)
    response = client.post(reverse("securite:totp-setup"), {"code": totp_code(device)})
    assert response.status_code == 200 and "Mes codes de secours" in text(response)
    device.refresh_from_db()
    assert device.confirmed
    return device


def test_without_any_factor_the_purchase_is_refused_with_the_way_forward(client, proposal, titulaire_with_rights):
    client.force_login(titulaire_with_rights)
    page = text(client.get(accept_url(proposal)))
    assert "Aucun moyen de confirmation sur votre compte" in page and "Mon compte → Sécurité" in page
    assert "et accepter" not in page  # no card form before the confirmation
    response = client.post(accept_url(proposal), f.card_post(proposal))
    assert response.status_code == 403
    assert "Confirmez d'abord votre identité : cet achat utilise vos droits formation." in text(response)
    assert Dossier.objects.get(pk=proposal.pk).status == Status.PROPOSED


def test_a_totp_code_confirms_one_purchase(client, proposal, titulaire_with_rights, organisme, organisme_user):
    client.force_login(titulaire_with_rights)
    device = enrol_totp(client)
    confirm = reverse("securite:confirm-totp", args=[proposal.numero])
    wrong = client.post(confirm, {"code": "000000"})
    assert wrong.status_code == 400 and "Ce code n'est pas le bon." in text(wrong)
    assert 'aria-describedby="code-application-erreur"' in wrong.content.decode()
    device.refresh_from_db()
    device.throttle_reset()
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=31)):  # the app's next code
        assert client.post(confirm, {"code": totp_code(device)}).url == accept_url(proposal)
    page = text(client.get(accept_url(proposal)))
    assert "Payer 120,00\u00a0€ et accepter" in page
    response = client.post(accept_url(proposal), f.card_post(proposal), follow=True)
    assert "Votre inscription est confirmée." in text(response)
    assert StrongConfirmation.objects.get(purpose=services.purpose_of(proposal)).used_at is not None
    # Used once: the next purchase asks again.
    other = f.proposed(titulaire_with_rights, f.session_for(organisme), organisme_user)
    assert client.post(accept_url(other), f.card_post(other)).status_code == 403


def test_a_confirmation_lasts_a_few_minutes(client, proposal, titulaire_with_rights, settings):
    client.force_login(titulaire_with_rights)
    confirmation = services.confirm(user=titulaire_with_rights, purpose=services.purpose_of(proposal), method="totp")
    StrongConfirmation.objects.filter(pk=confirmation.pk).update(
        confirmed_at=timezone.now() - datetime.timedelta(minutes=settings.CPF_STRONG_CONFIRMATION_MINUTES, seconds=1)
    )
    assert client.post(accept_url(proposal), f.card_post(proposal)).status_code == 403


def test_a_code_by_email_when_the_settings_accept_it(client, proposal, titulaire_with_rights, settings, mailoutbox, send_queued_emails):
    import re

    client.force_login(titulaire_with_rights)
    assert "Recevoir un code" not in text(client.get(accept_url(proposal)))  # not a default factor
    settings.CPF_PURCHASE_FACTORS = ["passkey", "totp", "email"]
    client.post(reverse("securite:confirm-email-send", args=[proposal.numero]))
    again = client.post(reverse("securite:confirm-email-send", args=[proposal.numero]))
    assert again.status_code == 400 and "patientez une minute" in text(again)
    send_queued_emails()
    code = re.search(r"\b(\d{6})\b", mailoutbox[-1].body).group(1)
    assert code not in Email.objects.get(template="securite/emails/code").body_text  # masked in the outbox
    bad = client.post(reverse("securite:confirm-email", args=[proposal.numero]), {"email_code": "111111" if code != "111111" else "222222"})
    assert bad.status_code == 400 and "Ce code n'est pas le bon." in text(bad)
    assert client.post(reverse("securite:confirm-email", args=[proposal.numero]), {"email_code": code}).status_code == 302
    assert "Payer 120,00\u00a0€ et accepter" in text(client.get(accept_url(proposal)))


def test_a_recent_franceconnect_plus_login_confirms(client, proposal, titulaire_with_rights):
    client.force_login(titulaire_with_rights)
    session = client.session
    session[services.FC_ACR_SESSION_KEY] = "eidas2"
    session[services.FC_AT_SESSION_KEY] = timezone.now().isoformat()
    session.save()
    assert "Payer 120,00\u00a0€ et accepter" in text(client.get(accept_url(proposal)))
    session[services.FC_ACR_SESSION_KEY] = "eidas1"  # FranceConnect without « + » is not enough
    session.save()
    assert "Confirmer mon identité" in text(client.get(accept_url(proposal)))


# --- Passkeys ------------------------------------------------------------------------------------


def post_json(client, url, data=None):
    return client.post(url, json.dumps(data or {}), content_type="application/json")


def register_passkey(client, authenticator, name="Mon téléphone"):
    options = post_json(client, reverse("securite:passkey-options")).json()["publicKey"]
    return post_json(client, reverse("securite:passkey-register"), {"credential": authenticator.create(options), "name": name})


def test_a_passkey_is_registered_then_confirms_a_purchase(client, proposal, titulaire_with_rights):
    client.force_login(titulaire_with_rights)
    key = SoftAuthenticator()
    assert register_passkey(client, key).json() == {"redirect": reverse("securite:security")}
    passkey = Passkey.objects.get(user=titulaire_with_rights)
    assert passkey.name == "Mon téléphone" and "Mon téléphone" in text(client.get(reverse("securite:security")))
    options = post_json(client, reverse("securite:confirm-passkey-options", args=[proposal.numero])).json()["publicKey"]
    assert options["allowCredentials"][0]["id"] == passkey.credential_id
    response = post_json(client, reverse("securite:confirm-passkey", args=[proposal.numero]), {"credential": key.get(options)})
    assert response.json() == {"redirect": accept_url(proposal)}
    assert client.post(accept_url(proposal), f.card_post(proposal)).status_code == 302
    assert Dossier.objects.get(pk=proposal.pk).status == Status.ACCEPTED
    passkey.refresh_from_db()
    assert passkey.sign_count == 1 and passkey.last_used_at is not None


@pytest.mark.parametrize(
    ("lie", "message"),
    [
        ("origin", "La vérification de votre clé d'accès a échoué"),
        ("replay", "Cette demande a expiré ou a déjà servi"),
        ("unknown", "Cette clé d'accès n'est pas enregistrée sur votre compte."),
        ("signature", "La vérification de votre clé d'accès a échoué"),
        ("challenge", "La vérification de votre clé d'accès a échoué"),
    ],
)
def test_a_tampered_passkey_assertion_is_refused(client, proposal, titulaire_with_rights, lie, message):
    client.force_login(titulaire_with_rights)
    key = SoftAuthenticator()
    register_passkey(client, key)
    options_url = reverse("securite:confirm-passkey-options", args=[proposal.numero])
    verify_url = reverse("securite:confirm-passkey", args=[proposal.numero])
    options = post_json(client, options_url).json()["publicKey"]
    if lie == "replay":  # a good assertion, sent twice: its challenge served once
        assertion = key.get(options)
        assert post_json(client, verify_url, {"credential": assertion}).status_code == 200
        StrongConfirmation.objects.all().delete()
        response = post_json(client, verify_url, {"credential": assertion})
    else:
        signer = SoftAuthenticator() if lie == "unknown" else key
        assertion = signer.get(
            options,
            origin="https://moncompteformation.example.com" if lie == "origin" else None,
            challenge="AAAAAAAAAAAAAAAAAAAAAA" if lie == "challenge" else None,
            tamper=lie == "signature",
        )
        response = post_json(client, verify_url, {"credential": assertion})
    assert response.status_code == 400 and message in response.json()["error"]
    assert not StrongConfirmation.objects.exists()
    assert client.post(accept_url(proposal), f.card_post(proposal)).status_code == 403


def test_a_passkey_from_another_origin_is_not_registered(client, titulaire_with_rights):
    client.force_login(titulaire_with_rights)
    options = post_json(client, reverse("securite:passkey-options")).json()["publicKey"]
    credential = SoftAuthenticator().create(options, origin="https://faux-cpf.example")
    response = post_json(client, reverse("securite:passkey-register"), {"credential": credential, "name": "Clé"})
    assert response.status_code == 400 and "n'a pas pu être enregistrée" in response.json()["error"]
    assert not Passkey.objects.exists()


def test_another_persons_keys_and_dossiers_are_404(client, proposal, titulaire_with_rights, other_titulaire):
    client.force_login(titulaire_with_rights)
    register_passkey(client, SoftAuthenticator())
    passkey = Passkey.objects.get()
    client.force_login(other_titulaire)
    assert client.post(reverse("securite:passkey-remove", args=[passkey.pk])).status_code == 404
    assert client.post(reverse("securite:confirm-totp", args=[proposal.numero]), {"code": "123456"}).status_code == 404
    assert post_json(client, reverse("securite:confirm-passkey-options", args=[proposal.numero])).status_code == 404
    assert Passkey.objects.filter(pk=passkey.pk).exists()


def test_the_security_page_removes_a_key_and_the_app(client, titulaire_with_rights):
    client.force_login(titulaire_with_rights)
    register_passkey(client, SoftAuthenticator(), name="Clé USB")
    enrol_totp(client)
    page = text(client.get(reverse("securite:security")))
    assert "Clé USB" in page and "Une application d'authentification est enregistrée" in page
    client.post(reverse("securite:passkey-remove", args=[Passkey.objects.get().pk]))
    client.post(reverse("securite:totp-remove"))
    page = text(client.get(reverse("securite:security")))
    assert "Aucune clé d'accès enregistrée." in page and "Ajouter une application d'authentification" in page
