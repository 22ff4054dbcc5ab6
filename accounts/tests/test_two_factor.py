"""Two-factor login of organisme staff and operators, through the real pages (the test client
of the rest of the suite logs in with ``force_login``, which marks the session verified)."""

import base64
import re

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.tests.factories import totp_code

LOGIN = reverse("accounts:login")
SETUP = reverse("accounts:two-factor-setup")
VERIFY = reverse("accounts:two-factor")
HOME = reverse("dossiers:organisme-home")


@pytest.fixture
def browser():
    """A plain client: logging in takes the password, then the code."""
    return Client()


def password_login(browser, user, **extra):
    response = browser.post(LOGIN, {"username": user.email, "password": "Formation2020", **extra}, REMOTE_ADDR="10.0.0.2")
    assert response.status_code == 302
    return response


def enrol(browser, user) -> list[str]:
    """Scan (read the key of the page), type the first code; return the recovery codes shown."""
    page = browser.get(SETUP + "?next=" + HOME)
    secret = re.search(r'id="cle-secrete">([A-Z2-7 ]+)<', page.content.decode()).group(1)
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert secret.replace(" ", "") == base64.b32encode(device.bin_key).decode()
    assert "<svg" in page.content.decode()  # the QR code, inline
    response = browser.post(SETUP, {"code": totp_code(device), "next": HOME})
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:two-factor-codes"))
    codes_page = browser.get(response.url)
    return re.findall(r"<li><code>([a-z2-7]{8})</code></li>", codes_page.content.decode())


@pytest.mark.parametrize("who", ["organisme_user", "operator"])
def test_first_login_forces_enrolment_then_every_login_asks_a_code(browser, who, request):
    user = request.getfixturevalue(who)
    password_login(browser, user)
    # Any page sends to the enrolment first, keeping where the person was going.
    response = browser.get(HOME)
    assert response.status_code == 302 and response.url == f"{SETUP}?next={HOME.replace('/', '%2F')}"
    assert browser.get(reverse("admin:index")).status_code == 302

    codes = enrol(browser, user)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert StaticToken.objects.filter(device__user=user).count() == 10
    assert TOTPDevice.objects.get(user=user).confirmed
    landing = HOME if who == "organisme_user" else reverse("admin:index")
    assert browser.get(landing).status_code == 200

    # Next login: password, then the code page (not the enrolment), then the page.
    browser.post(reverse("accounts:logout"))
    password_login(browser, user)
    response = browser.get(landing)
    assert response.status_code == 302 and response.url.startswith(VERIFY)
    wrong = browser.post(VERIFY, {"code": "000000", "next": landing})
    assert wrong.status_code == 400
    assert "Ce code n&#x27;est pas le bon" in wrong.content.decode()
    assert browser.get(landing).status_code == 302  # still not in
    device = TOTPDevice.objects.get(user=user)
    device.throttle_reset()  # the wrong code above made the next attempt wait a second
    response = browser.post(VERIFY, {"code": totp_code(device), "next": landing})
    assert response.status_code == 302 and response.url == landing
    assert browser.get(landing).status_code == 200


def test_a_recovery_code_logs_in_once(browser, organisme_user):
    password_login(browser, organisme_user)
    codes = enrol(browser, organisme_user)
    for attempt in range(2):
        browser.post(reverse("accounts:logout"))
        password_login(browser, organisme_user)
        response = browser.post(VERIFY, {"code": codes[0].upper(), "next": HOME})
        if attempt == 0:
            assert response.status_code == 302 and response.url == HOME
        else:
            assert response.status_code == 400  # used up
    assert StaticToken.objects.filter(device__user=organisme_user).count() == 9


def test_wrong_codes_are_throttled_with_a_clear_message(browser, organisme_user):
    password_login(browser, organisme_user)
    enrol(browser, organisme_user)
    browser.post(reverse("accounts:logout"))
    password_login(browser, organisme_user)
    browser.post(VERIFY, {"code": "111111"})
    device = TOTPDevice.objects.get(user=organisme_user)
    good = f"{TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift + 1).token():06d}"
    response = browser.post(VERIFY, {"code": good})  # right code, but too soon after a wrong one
    assert response.status_code == 400
    assert "Trop de codes erronés" in response.content.decode()


def test_titulaires_log_in_with_their_password_alone(browser, titulaire):
    response = browser.post(LOGIN, {"username": titulaire.email, "password": "Formation2020"}, REMOTE_ADDR="10.0.0.3")
    assert response.status_code == 302
    assert browser.get(reverse("accounts:home")).status_code == 200
    assert browser.get(SETUP).status_code == 302  # nothing to enrol: back home


def test_the_enrolment_keeps_one_key_across_reloads_and_refuses_a_wrong_first_code(browser, organisme_user):
    password_login(browser, organisme_user)
    first = browser.get(SETUP).content.decode()
    again = browser.get(SETUP).content.decode()
    key = re.search(r'id="cle-secrete">([A-Z2-7 ]+)<', first).group(1)
    assert key in again
    response = browser.post(SETUP, {"code": "123456"})
    assert response.status_code == 400
    assert not TOTPDevice.objects.filter(user=organisme_user, confirmed=True).exists()
    empty = browser.post(SETUP, {"code": ""})
    assert "Saisissez le code" in empty.content.decode()


def test_new_recovery_codes_replace_the_old_ones(client, organisme_user):
    client.force_login(organisme_user)
    page = client.post(reverse("accounts:two-factor-codes"), follow=True)
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", page.content.decode())
    assert len(codes) == 10
    assert set(StaticToken.objects.filter(device__user=organisme_user).values_list("token", flat=True)) == set(codes)
    assert "Codes de secours restants : 10" in client.get(reverse("accounts:two-factor-codes")).content.decode()
