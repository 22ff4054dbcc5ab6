"""Holes found by testing the running portal (issue 14): one lockout counter per account
whatever identifier is typed, « Mot de passe oublié » throttled, no secret readable in the
outbox."""

import re

import pytest
from django.urls import reverse

from accounts.models import User
from cpf_portal.testing import text
from notifications.models import Email

pytestmark = pytest.mark.django_db


def login(client, username, password="Formation2020"):
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


def test_the_nir_and_the_email_of_one_account_share_one_lockout_counter(client, titulaire, settings):
    """Before: 5 guesses by NIR then 5 more by e-mail. Now 5 in all, whichever is typed."""
    limit = settings.AXES_FAILURE_LIMIT
    for attempt in range(limit - 1):
        identifier = titulaire.nir if attempt % 2 else titulaire.email.upper()
        assert login(client, identifier, "Mauvais2020").status_code == 400
    assert login(client, titulaire.email, "Mauvais2020").status_code == 429
    # Locked whichever identifier carries the right password now.
    assert login(client, titulaire.nir).status_code == 429
    assert login(client, titulaire.email).status_code == 429
    assert "_auth_user_id" not in client.session


def test_an_unknown_identifier_is_still_counted(client, db, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(client, "personne@exemple.fr", "Mauvais2020").status_code == 400
    assert login(client, "Personne@Exemple.fr", "Mauvais2020").status_code == 429


def reset(client, email, ip="192.0.2.10"):
    return client.post(reverse("accounts:password_reset"), {"email": email}, REMOTE_ADDR=ip)


def test_password_reset_is_throttled_per_address_with_the_same_answer(
    client, titulaire, settings, mailoutbox, django_capture_on_commit_callbacks, send_queued_emails
):
    """Before: 6 requests → 6 e-mails. Now at most CPF_PASSWORD_RESET_MAX_PER_ADDRESS an hour,
    and the page answers the same beyond it, for a known or an unknown address."""
    settings.CPF_PASSWORD_RESET_MAX_PER_ADDRESS = 3
    with django_capture_on_commit_callbacks(execute=True):
        answers = [reset(client, titulaire.email, ip=f"192.0.2.{n}") for n in range(6)]
        unknown = [reset(client, "inconnu@exemple.fr", ip=f"198.51.100.{n}") for n in range(6)]
    send_queued_emails()
    assert {(r.status_code, r.url) for r in answers + unknown} == {(302, reverse("accounts:password_reset_done"))}
    assert len(mailoutbox) == 3 and {m.to[0] for m in mailoutbox} == {titulaire.email}


def test_password_reset_is_throttled_per_client(client, titulaire, settings):
    settings.CPF_PASSWORD_RESET_MAX_PER_CLIENT = 4
    for n in range(4):
        assert reset(client, f"adresse{n}@exemple.fr").status_code == 302
    refused = reset(client, titulaire.email)
    assert refused.status_code == 429
    assert "Trop de demandes de nouveau mot de passe depuis votre connexion : réessayez dans une heure." in text(refused)
    assert reset(client, titulaire.email, ip="203.0.113.7").status_code == 302  # another client is not held


def test_no_code_or_link_is_readable_in_the_outbox(client, titulaire, operator, mailoutbox, django_capture_on_commit_callbacks, send_queued_emails):
    """Before: the activation code sat in the subject and the reset link in the body, readable
    by operators in the admin. Now the row shows them masked and the real e-mail holds them."""
    from accounts.tests.test_signup import signup_data

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:signup"), signup_data())
        reset(client, titulaire.email)
    queued = list(Email.objects.order_by("id"))
    send_queued_emails()
    code = re.search(r"\b(\d{6})\b", mailoutbox[0].body).group(1)
    link = re.search(r"(/mot-de-passe-oublie/\S+/)", mailoutbox[1].body).group(1)
    assert code in mailoutbox[0].subject  # the person still gets it
    for email in Email.objects.all():
        assert code not in email.subject + email.body_text and link not in email.body_text
        assert "[masqué]" in email.subject + email.body_text
        assert email.sealed == ""  # sent: not even its encrypted copy is kept
    assert all(email.sealed and code not in email.sealed for email in queued)  # encrypted until sent
    client.force_login(operator)
    for email in Email.objects.all():
        page = text(client.get(reverse("admin:notifications_email_change", args=[email.pk])))
        assert code not in page and link not in page
    assert User.objects.filter(email="camille.durand@exemple.fr").exists()


def test_a_team_invitation_link_is_masked_in_the_outbox(
    organisme_user, organisme, mailoutbox, django_capture_on_commit_callbacks, send_queued_emails
):
    from equipes import services

    with django_capture_on_commit_callbacks(execute=True):
        _, token = services.invite(organisme=organisme, email="nouvelle@exemple.fr", roles=["gestionnaire"], by=organisme_user)
    send_queued_emails()
    assert token in mailoutbox[0].body
    assert token not in Email.objects.get(to="nouvelle@exemple.fr").body_text
