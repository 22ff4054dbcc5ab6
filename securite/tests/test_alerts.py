"""A login from a new device sends an alert; the security page lists recent logins."""

import pytest
from django.urls import reverse

from cpf_portal.testing import text

pytestmark = pytest.mark.django_db


def login(client, titulaire, agent):
    return client.post(
        reverse("accounts:login"), {"username": titulaire.email, "password": "Formation2020"}, HTTP_USER_AGENT=agent, REMOTE_ADDR="192.0.2.44"
    )


def test_a_login_from_a_new_device_is_told_by_email(client, titulaire, mailoutbox, send_queued_emails, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert login(client, titulaire, "Firefox sur Linux").status_code == 302  # the account's first login: no alert
        client.post(reverse("accounts:logout"))
        login(client, titulaire, "Firefox sur Linux")  # a known device: no alert
        client.post(reverse("accounts:logout"))
        login(client, titulaire, "Chrome sur Android")
    send_queued_emails()
    alerts = [m for m in mailoutbox if m.subject == "Nouvelle connexion à votre compte Mon Compte Formation"]
    assert len(alerts) == 1 and "Chrome sur Android" in alerts[0].body and "192.0.2.44" in alerts[0].body
    page = text(client.get(reverse("securite:security")))
    assert page.count("Firefox sur Linux") == 2 and "Chrome sur Android" in page
