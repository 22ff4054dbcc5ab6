import pytest
from django.urls import reverse

from cpf_portal.testing import text

pytestmark = pytest.mark.django_db

URL = reverse("accounts:profile")


def profile_data(user, **overrides):
    data = {
        "pro-diploma": "niv4",
        "pro-diploma_year": "2012",
        "pro-socio_professional_category": "5",
        "pro-employment_status": "salarie",
        "perso-first_name": "Camille",
        "perso-usage_name": "",
        "perso-last_name": "Durand",
        "perso-phone_mobile": "06 12 34 56 78",
        "perso-phone_landline": "",
        "perso-email": user.email,
        "perso-email_confirm": user.email,
        "perso-street_number": "12",
        "perso-street_repetition": "B",
        "perso-street_type": "RUE",
        "perso-street_name": "Serpenoise",
        "perso-address_complement": "Appartement 3",
        "perso-locality": "",
        "perso-postal_code": "57000",
        "perso-city": "Metz",
    }
    data.update(overrides)
    return data


def test_anonymous_is_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_organisme_staff_cannot_open_titulaire_pages(client, organisme_user):
    client.force_login(organisme_user)
    assert client.get(URL).status_code == 403


def test_page_shows_the_seed_sections(client, titulaire):
    client.force_login(titulaire)
    html = text(client.get(URL))
    for wording in (
        "Mes informations professionnelles",
        "Mes informations personnelles",
        "Diplôme le plus élevé obtenu",
        "Catégorie socio-professionnelle",
        "Nom d'usage",
        "Téléphone mobile",
        "Téléphone fixe",
        "Indice de répétition",
        "Type de voie",
        "Libellé de la voie",
        "Complément d'adresse",
        "Lieu-dit",
        "Code postal",
    ):
        assert wording in html, wording
    assert "quater" in html  # indices de répétition


def test_saving_normalises_and_stores(client, titulaire):
    client.force_login(titulaire)
    response = client.post(URL, profile_data(titulaire), follow=True)
    assert "Vos informations ont été enregistrées." in text(response)
    titulaire.refresh_from_db()
    assert titulaire.phone_mobile == "0612345678"
    assert titulaire.diploma_year == 2012
    assert titulaire.address_lines == ["12 bis rue Serpenoise", "Appartement 3", "57000 Metz"]


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"perso-phone_mobile": ""}, "phone_mobile", "Un des deux numéros doit être renseigné."),
        ({"perso-phone_mobile": "03 87 12 34 56"}, "phone_mobile", "commençant par 06 ou 07"),
        ({"perso-phone_mobile": "", "perso-phone_landline": "06 12 34 56 78"}, "phone_landline", "01 à 05 ou 09"),
        ({"perso-postal_code": "5700"}, "postal_code", "5 chiffres"),
        ({"perso-street_number": "12b"}, "street_number", "que des chiffres"),
        ({"perso-email_confirm": "autre@exemple.fr"}, "email_confirm", "ne sont pas identiques"),
        ({"perso-city": ""}, "city", "Ce champ est obligatoire"),
        ({"pro-diploma": ""}, "diploma", "diplôme le plus élevé"),
        ({"pro-diploma_year": ""}, "diploma_year", "année d'obtention"),
        ({"pro-diploma_year": "2099"}, "diploma_year", "futur"),
        ({"pro-diploma_year": "douze"}, "diploma_year", "nombre entier"),
        ({"pro-employment_status": "inconnu"}, "employment_status", "Sélectionnez un choix valide"),
    ],
)
def test_bad_input_is_told_next_to_the_field_and_nothing_saved(client, titulaire, overrides, field, message):
    client.force_login(titulaire)
    data = profile_data(titulaire)
    data.update(overrides)
    response = client.post(URL, data)
    assert response.status_code == 400
    forms = [response.context["pro_form"], response.context["perso_form"]]
    errors = [str(e) for form in forms for e in form.errors.get(field, [])]
    assert any(message in e for e in errors), errors
    titulaire.refresh_from_db()
    assert titulaire.phone_mobile == ""
    assert titulaire.diploma == ""


def test_without_diploma_no_year_is_needed(client, titulaire):
    client.force_login(titulaire)
    data = profile_data(titulaire)
    data.update({"pro-diploma": "sans", "pro-diploma_year": ""})
    assert client.post(URL, data).status_code == 302
    titulaire.refresh_from_db()
    assert titulaire.diploma == "sans" and titulaire.diploma_year is None


def test_email_already_used_by_another_account(client, titulaire, other_titulaire):
    client.force_login(titulaire)
    data = profile_data(titulaire)
    data.update({"perso-email": other_titulaire.email.upper(), "perso-email_confirm": other_titulaire.email})
    response = client.post(URL, data)
    assert response.status_code == 400
    assert "Un compte existe déjà avec cette adresse électronique." in text(response)
