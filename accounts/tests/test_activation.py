import datetime
import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import ActivationCode
from accounts.tests.factories import TitulaireFactory
from accounts.views import ACTIVATION_SESSION_KEY
from cpf_portal.testing import text

pytestmark = pytest.mark.django_db

ACTIVATE = reverse("accounts:activate")


@pytest.fixture
def pending(db):
    return TitulaireFactory(activated_at=None)


def send_code(user, mailoutbox, capture, send_queued_emails, **kwargs) -> str:
    with capture(execute=True):
        services.activation_code_send(user=user, **kwargs)
    send_queued_emails()
    return re.search(r"\b(\d{6})\b", mailoutbox[-1].body).group(1)


@pytest.fixture
def pending_client(client, pending):
    session = client.session
    session[ACTIVATION_SESSION_KEY] = pending.pk
    session.save()
    return client


def test_right_code_activates(pending_client, pending, mailoutbox, django_capture_on_commit_callbacks, send_queued_emails):
    code = send_code(pending, mailoutbox, django_capture_on_commit_callbacks, send_queued_emails, check_rate=False)
    page = pending_client.get(ACTIVATE)
    assert "Reportez ce code dans la case prévue à cet effet" in text(page)
    response = pending_client.post(ACTIVATE, {"code": code})
    assert response.status_code == 302 and response.url == reverse("accounts:login")
    pending.refresh_from_db()
    assert pending.is_activated


def test_wrong_code_counts_down_then_a_new_code_is_needed(
    pending_client, pending, mailoutbox, django_capture_on_commit_callbacks, send_queued_emails
):
    code = send_code(pending, mailoutbox, django_capture_on_commit_callbacks, send_queued_emails, check_rate=False)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for remaining in (4, 3, 2, 1):
        response = pending_client.post(ACTIVATE, {"code": wrong})
        assert response.status_code == 400
        assert f"Il vous reste {remaining} essai" in text(response)
    response = pending_client.post(ACTIVATE, {"code": wrong})
    assert "Trop d'essais incorrects" in text(response)
    # Even the right code no longer works.
    response = pending_client.post(ACTIVATE, {"code": code})
    assert "Aucun code en cours de validité" in text(response)
    pending.refresh_from_db()
    assert not pending.is_activated
    assert ActivationCode.objects.get().attempts == 5


def test_code_expires_after_15_minutes(pending_client, pending, mailoutbox, django_capture_on_commit_callbacks, send_queued_emails):
    code = send_code(pending, mailoutbox, django_capture_on_commit_callbacks, send_queued_emails, check_rate=False)
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=15, seconds=1)):
        response = pending_client.post(ACTIVATE, {"code": code})
    assert response.status_code == 400
    assert "Ce code a expiré" in text(response)
    pending.refresh_from_db()
    assert not pending.is_activated


def test_code_still_valid_just_before_expiry(pending_client, pending, mailoutbox, django_capture_on_commit_callbacks, send_queued_emails):
    code = send_code(pending, mailoutbox, django_capture_on_commit_callbacks, send_queued_emails, check_rate=False)
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=14, seconds=50)):
        assert pending_client.post(ACTIVATE, {"code": code}).status_code == 302


@pytest.mark.parametrize("value, message", [("12a456", "que des chiffres"), ("123", "6 chiffres"), ("", "Saisissez le code")])
def test_malformed_code_is_told_next_to_the_field(pending_client, pending, value, message):
    response = pending_client.post(ACTIVATE, {"code": value})
    assert response.status_code == 400
    assert message in text(response)
    assert ActivationCode.objects.filter(attempts__gt=0).count() == 0


def test_resend_replaces_the_code_and_is_rate_limited(pending_client, pending, mailoutbox, django_capture_on_commit_callbacks, send_queued_emails):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        old = send_code(pending, mailoutbox, django_capture_on_commit_callbacks, send_queued_emails, check_rate=False)
        with django_capture_on_commit_callbacks(execute=True):
            response = pending_client.post(ACTIVATE, {"resend": "1"}, follow=True)
        send_queued_emails()
        assert "Un code vient d'être envoyé" in text(response)
        assert len(mailoutbox) == 1
    with time_machine.travel(start + datetime.timedelta(seconds=61), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            response = pending_client.post(ACTIVATE, {"resend": "1"}, follow=True)
        send_queued_emails()
        assert "Un nouveau code a été envoyé" in text(response)
        assert len(mailoutbox) == 2
        new = re.search(r"\b(\d{6})\b", mailoutbox[-1].body).group(1)
        if new != old:  # the old code no longer works once replaced
            assert pending_client.post(ACTIVATE, {"code": old}).status_code == 400
        assert pending_client.post(ACTIVATE, {"code": new}).status_code == 302


def test_at_most_five_codes_an_hour(pending, mailoutbox, django_capture_on_commit_callbacks, send_queued_emails):
    start = timezone.now()
    for minute in range(5):
        with time_machine.travel(start + datetime.timedelta(minutes=2 * minute), tick=False):
            send_code(pending, mailoutbox, django_capture_on_commit_callbacks, send_queued_emails)
    with time_machine.travel(start + datetime.timedelta(minutes=12), tick=False), pytest.raises(services.ResendRefused) as refusal:
        services.activation_code_send(user=pending)
    assert "trop de codes" in str(refusal.value)
    with time_machine.travel(start + datetime.timedelta(minutes=61), tick=False):
        send_code(pending, mailoutbox, django_capture_on_commit_callbacks, send_queued_emails)
    assert len(mailoutbox) == 6


def test_activation_page_without_pending_account_goes_to_login(client):
    response = client.get(ACTIVATE)
    assert response.status_code == 302 and response.url == reverse("accounts:login")
