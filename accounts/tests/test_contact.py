import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import ContactRequest
from cpf_portal.testing import text

pytestmark = pytest.mark.django_db
URL = reverse("accounts:contact")


def data(**overrides):
    values = {
        "name": "Camille Durand",
        "email": "camille@exemple.fr",
        "subject": "dossier",
        "dossier_numero": "3859095851",
        "message": "Mon organisme ne répond pas à ma demande.",
    }
    values.update(overrides)
    return values


def test_contact_is_stored_and_acknowledged(client, django_capture_on_commit_callbacks, send_queued_emails):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, data(), REMOTE_ADDR="10.1.1.1", follow=True)
    send_queued_emails()
    request = ContactRequest.objects.get()
    assert f"Votre demande est envoyée (référence {request.reference})" in text(response)
    assert request.dossier_numero == "3859095851" and request.subject == "dossier"
    assert mail.outbox[0].to == ["camille@exemple.fr"] and request.reference in mail.outbox[0].subject


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"dossier_numero": "12345"}, "10 chiffres"),
        ({"message": "Aide"}, "10 caractères au moins"),
        ({"subject": ""}, "Ce champ est obligatoire"),
        ({"email": "pas-une-adresse"}, "Saisissez une adresse"),
    ],
)
def test_contact_errors(client, overrides, message):
    response = client.post(URL, data(**overrides), REMOTE_ADDR="10.1.1.2")
    assert response.status_code == 400 and message in text(response)
    assert not ContactRequest.objects.exists()


def test_contact_is_rate_limited(client, settings):
    settings.CPF_CONTACT_MAX_PER_HOUR = 3
    for index in range(3):
        assert client.post(URL, data(email=f"p{index}@exemple.fr"), REMOTE_ADDR="10.1.1.3").status_code == 302
    blocked = client.post(URL, data(email="p9@exemple.fr"), REMOTE_ADDR="10.1.1.3")
    assert blocked.status_code == 429 and "réessayez plus tard" in text(blocked)
    assert ContactRequest.objects.count() == 3
    # Another address is not blocked.
    assert client.post(URL, data(email="autre@exemple.fr"), REMOTE_ADDR="10.1.1.4").status_code == 302


def test_logged_in_titulaire_is_prefilled_and_linked(client, titulaire):
    client.force_login(titulaire)
    assert titulaire.email in text(client.get(URL))
    client.post(URL, data(email=titulaire.email), REMOTE_ADDR="10.1.1.5")
    assert ContactRequest.objects.get().user == titulaire


def test_contact_requests_in_the_admin(client, operator):
    client.post(URL, data(), REMOTE_ADDR="10.1.1.6")
    client.force_login(operator)
    page = text(client.get(reverse("admin:accounts_contactrequest_changelist")))
    assert ContactRequest.objects.get().reference in page
