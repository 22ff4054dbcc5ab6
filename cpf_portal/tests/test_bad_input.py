"""No form answers 500, whatever is posted to it."""

import pytest
from django.urls import reverse

from accounts.views import ACTIVATION_SESSION_KEY

pytestmark = pytest.mark.django_db

JUNK = [
    "",
    " ",
    "x" * 5000,
    "\x00",
    "<script>alert(1)</script>",
    "'; DROP TABLE accounts_user; --",
    "２９５１０９９１２６１１１９３",  # full-width digits
    "🙂🙂🙂",
    "-1",
    "9" * 40,
    "2020-02-30",
]

ANONYMOUS_FORMS = {
    "accounts:signup": [
        "nir",
        "last_name",
        "first_name",
        "birth_date",
        "email",
        "email_confirm",
        "password",
        "password_confirm",
        "apprenticeship_contract",
        "cgu",
    ],
    "accounts:login": ["username", "password"],
    "accounts:password_reset": ["email"],
    "accounts:contact": ["name", "email", "subject", "message", "dossier_numero"],
}
TITULAIRE_FORMS = {
    "accounts:profile": [
        "pro-diploma",
        "pro-diploma_year",
        "pro-socio_professional_category",
        "pro-employment_status",
        "perso-first_name",
        "perso-last_name",
        "perso-phone_mobile",
        "perso-phone_landline",
        "perso-email",
        "perso-email_confirm",
        "perso-street_number",
        "perso-street_repetition",
        "perso-street_type",
        "perso-street_name",
        "perso-postal_code",
        "perso-city",
    ],
    "accounts:password_change": ["old_password", "new_password1", "new_password2"],
    "mes_donnees:my-data": ["password", "confirm"],
}


@pytest.mark.parametrize("junk", JUNK)
@pytest.mark.parametrize("url_name", ANONYMOUS_FORMS)
def test_anonymous_forms_never_fail(client, url_name, junk):
    response = client.post(reverse(url_name), dict.fromkeys(ANONYMOUS_FORMS[url_name], junk), REMOTE_ADDR="10.9.9.9")
    assert response.status_code < 500


@pytest.mark.parametrize("junk", JUNK)
@pytest.mark.parametrize("url_name", TITULAIRE_FORMS)
def test_titulaire_forms_never_fail(client, titulaire, url_name, junk):
    client.force_login(titulaire)
    response = client.post(reverse(url_name), dict.fromkeys(TITULAIRE_FORMS[url_name], junk))
    assert response.status_code in (200, 302, 400)


@pytest.mark.parametrize("junk", JUNK)
def test_activation_never_fails(client, titulaire, junk):
    titulaire.activated_at = None
    titulaire.save()
    session = client.session
    session[ACTIVATION_SESSION_KEY] = titulaire.pk
    session.save()
    assert client.post(reverse("accounts:activate"), {"code": junk}).status_code == 400


@pytest.mark.parametrize("junk", JUNK)
def test_choosing_an_interlocuteur_never_fails(client, titulaire, junk):
    client.force_login(titulaire)
    response = client.post(reverse("interlocuteurs:directory"), {"structure": junk})
    assert response.status_code == 404
    titulaire.refresh_from_db()
    assert titulaire.interlocuteur is None
