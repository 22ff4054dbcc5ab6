"""The error tracker's events leave without personal data; the 500 page stays the DSFR one."""

import pytest
from django.test import Client
from django.urls import path

from cpf_portal.error_tracker import before_send


def test_before_send_drops_bodies_cookies_and_credentials_and_scrubs_identifiers():
    event = {
        "request": {
            "url": "https://www.example/connexion/",
            "method": "POST",
            "data": {"username": "184127512345678", "password": "Formation2020"},
            "cookies": {"sessionid": "abc"},
            "query_string": "token=abc",
            "headers": {"Authorization": "Bearer secret-jeton", "Cookie": "sessionid=abc", "User-Agent": "Firefox"},
        },
        "user": {"id": 42, "email": "camille@exemple.fr", "ip_address": "192.0.2.1"},
        "exception": {"values": [{"type": "ValueError", "value": "NIR 1 84 12 75 123 456 78 refusé pour la carte 4970101234567890"}]},
        "extra": {"note": "code=123456"},
    }
    cleaned = before_send(event, {})
    text = repr(cleaned)
    for secret in (
        "184127512345678",
        "Formation2020",
        "sessionid=abc",
        "secret-jeton",
        "camille@exemple.fr",
        "192.0.2.1",
        "4970101234567890",
        "123456",
    ):
        assert secret not in text, secret
    assert "123 456" not in text
    assert cleaned["request"]["headers"] == {"User-Agent": "Firefox"}
    assert cleaned["user"] == {"id": 42}
    assert cleaned["exception"]["values"][0]["type"] == "ValueError"


def boom(request):
    raise RuntimeError("panne")


urlpatterns = [path("panne/", boom)]
handler500 = "cpf_portal.views.server_error"


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_server_error_page_is_the_dsfr_one(settings):
    settings.DEBUG = False
    settings.ROOT_URLCONF = __name__
    response = Client(raise_request_exception=False).get("/panne/")
    assert response.status_code == 500
    assert "fr-" in response.content.decode()  # DSFR classes: templates/500.html
    assert "panne" not in response.content.decode()
