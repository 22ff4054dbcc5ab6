import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import ActivationCode, User
from accounts.tests.factories import TitulaireFactory, nir_for
from cpf_portal.testing import text

pytestmark = pytest.mark.django_db

URL = reverse("accounts:signup")


def years_ago(years: int, days: int = 0) -> datetime.date:
    today = timezone.localdate()
    return today.replace(year=today.year - years) - datetime.timedelta(days=days)


def signup_data(**overrides):
    birth = overrides.pop("birth_date", datetime.date(1995, 10, 3))
    data = {
        "nir": "2 95 10 99 126 111 93",
        "last_name": "Durand",
        "first_name": "Camille",
        "birth_date": birth.isoformat() if birth else None,
        "email": "camille.durand@exemple.fr",
        "email_confirm": "camille.durand@exemple.fr",
        "password": "Formation2020",
        "password_confirm": "Formation2020",
        "cgu": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def field_errors(response, field):
    form = response.context["form"]
    return [str(e) for e in form.errors.get(field, [])]


def test_signup_page_has_the_seed_wording(client):
    response = client.get(URL)
    html = text(response)
    assert response.status_code == 200
    for wording in (
        "Je crée mon compte",
        "Numéro de sécurité sociale",
        "J'ai lu et j'accepte les conditions générales d'utilisation",
        "J'ai signé un contrat d'apprentissage",
        "Créer mon compte",
    ):
        assert wording in html
    # Every visible field has a real label.
    for field in response.context["form"].visible_fields():
        assert f'<label for="{field.id_for_label}"' in html


def test_valid_signup_creates_an_inactive_account_and_emails_a_code(client, mailoutbox, django_capture_on_commit_callbacks, send_queued_emails):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, signup_data())
    send_queued_emails()
    assert response.status_code == 302
    assert response.url == reverse("accounts:activate")
    user = User.objects.get()
    assert user.nir == "295109912611193"  # stored without spaces
    assert user.email == "camille.durand@exemple.fr"
    assert user.activated_at is None
    assert user.cgu_accepted_at is not None
    assert user.check_password("Formation2020")
    assert len(mailoutbox) == 1
    code = re.search(r"\b(\d{6})\b", mailoutbox[0].body).group(1)
    assert code in mailoutbox[0].subject
    # Only a hash of the code is kept.
    assert code not in ActivationCode.objects.get().code_hash


def test_nothing_is_emailed_before_the_transaction_commits(client, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(URL, signup_data())
    assert mailoutbox == []
    assert len(callbacks) == 1


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"nir": "295109912611199"}, "nir", "La clé"),
        ({"nir": "29510991261119"}, "nir", "15 caractères"),
        ({"nir": "2951099126111X3"}, "nir", "ne contient que des chiffres"),
        ({"nir": ""}, "nir", "Ce champ est obligatoire"),
        ({"birth_date": datetime.date(1996, 10, 3)}, "birth_date", "L'année de naissance ne correspond pas"),
        ({"birth_date": datetime.date(1995, 4, 3)}, "birth_date", "Le mois de naissance ne correspond pas"),
        ({"birth_date": None}, "birth_date", "Ce champ est obligatoire"),
        ({"email": "pas-une-adresse"}, "email", "Saisissez une adresse"),
        ({"email_confirm": "autre@exemple.fr"}, "email_confirm", "ne sont pas identiques"),
        ({"password": "formation2020", "password_confirm": "formation2020"}, "password", "majuscule"),
        ({"password": "FORMATION2020", "password_confirm": "FORMATION2020"}, "password", "minuscule"),
        ({"password": "FormationXX", "password_confirm": "FormationXX"}, "password", "chiffre"),
        ({"password": "Fo2020", "password_confirm": "Fo2020"}, "password", "trop court"),
        ({"password_confirm": "Formation2021"}, "password_confirm", "ne sont pas identiques"),
        ({"cgu": None}, "cgu", "conditions générales d'utilisation"),
        ({"last_name": ""}, "last_name", "Ce champ est obligatoire"),
    ],
)
def test_bad_input_is_told_next_to_the_field_and_nothing_is_saved(client, overrides, field, message):
    response = client.post(URL, signup_data(**overrides))
    assert response.status_code == 400
    assert any(message in error for error in field_errors(response, field)), field_errors(response, field)
    html = text(response)
    assert "fr-input-group--error" in html or "fr-checkbox-group--error" in html
    assert "Le formulaire contient" in html  # summary at the top, linked to the fields
    assert User.objects.count() == 0


def test_date_typed_the_french_way_is_understood(client):
    data = signup_data()
    data["birth_date"] = "03/10/1995"
    response = client.post(URL, data)
    assert response.status_code == 302


def test_under_16_is_refused_without_apprenticeship(client):
    birth = years_ago(15)
    response = client.post(URL, signup_data(nir=nir_for(birth), birth_date=birth))
    assert response.status_code == 400
    assert any("au moins 16 ans" in e for e in field_errors(response, "birth_date"))
    assert not User.objects.exists()


def test_15_year_old_apprentice_may_sign_up(client):
    birth = years_ago(15)
    response = client.post(URL, signup_data(nir=nir_for(birth), birth_date=birth, apprenticeship_contract="on"))
    assert response.status_code == 302
    assert User.objects.get().apprenticeship_contract is True


def test_14_year_old_is_refused_even_with_apprenticeship(client):
    birth = years_ago(14)
    response = client.post(URL, signup_data(nir=nir_for(birth), birth_date=birth, apprenticeship_contract="on"))
    assert response.status_code == 400
    assert any("au moins 15 ans" in e for e in field_errors(response, "birth_date"))


def test_sixteen_today_is_old_enough(client):
    birth = years_ago(16)
    assert client.post(URL, signup_data(nir=nir_for(birth), birth_date=birth)).status_code == 302


def _signup_then_activation_page(client, data, django_capture_on_commit_callbacks, send_queued_emails):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, data)
    send_queued_emails()
    return response, client.get(response.url)


def test_an_existing_nir_is_answered_like_a_new_account_and_its_owner_told(
    client, mailoutbox, django_capture_on_commit_callbacks, send_queued_emails
):
    """Signup tells no one whether an NIR has an account: the same activation page (no code
    ever matches), and the real owner gets an e-mail instead."""
    owner = TitulaireFactory(nir="295109912611193", birth_date=datetime.date(1995, 10, 3), email="vrai.titulaire@exemple.fr")
    response, page = _signup_then_activation_page(client, signup_data(), django_capture_on_commit_callbacks, send_queued_emails)
    assert response.status_code == 302 and response.url == reverse("accounts:activate")
    assert "Un code à 6 chiffres vient de vous être envoyé à l'adresse" in text(page) and "c•••••••••••••@exemple.fr" in text(page)
    assert User.objects.count() == 1
    assert [m.to for m in mailoutbox] == [[owner.email]]
    assert "avec votre numéro de sécurité sociale. Aucun nouveau compte n'a été créé" in mailoutbox[0].body
    # A code typed there is refused like a wrong code.
    wrong = client.post(reverse("accounts:activate"), {"code": "123456"})
    assert wrong.status_code == 400 and "Ce code est incorrect. Il vous reste" in text(wrong)


def test_an_existing_email_is_answered_like_a_new_account_whatever_the_case(
    client, mailoutbox, django_capture_on_commit_callbacks, send_queued_emails
):
    owner = TitulaireFactory(email="camille.durand@exemple.fr")
    data = signup_data(email="Camille.Durand@Exemple.FR", email_confirm="camille.durand@exemple.fr")
    response, page = _signup_then_activation_page(client, data, django_capture_on_commit_callbacks, send_queued_emails)
    assert response.url == reverse("accounts:activate") and page.status_code == 200
    assert User.objects.count() == 1
    assert [m.to for m in mailoutbox] == [[owner.email]] and "avec votre adresse électronique" in mailoutbox[0].body


def test_a_new_and_an_existing_signup_look_the_same(client, mailoutbox, django_capture_on_commit_callbacks, send_queued_emails):
    """The pages a stranger sees are the same, but for the masked address."""
    TitulaireFactory(nir="295109912611193", birth_date=datetime.date(1995, 10, 3))
    taken = _signup_then_activation_page(client, signup_data(), django_capture_on_commit_callbacks, send_queued_emails)
    client.cookies.clear()
    fresh_data = signup_data(nir=nir_for(datetime.date(1990, 5, 1), sex="2"), birth_date=datetime.date(1990, 5, 1))
    fresh = _signup_then_activation_page(client, fresh_data, django_capture_on_commit_callbacks, send_queued_emails)
    assert taken[0].status_code == fresh[0].status_code == 302 and taken[0].url == fresh[0].url
    strip = lambda page: re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"|nonce="[^"]+"', "", text(page))  # noqa: E731
    assert strip(taken[1]) == strip(fresh[1])


def test_corsican_nir_signs_up(client):
    birth = datetime.date(1953, 7, 1)
    response = client.post(URL, signup_data(nir="2 53 07 2A 073 004 43", birth_date=birth))
    assert response.status_code == 302
    assert User.objects.get().nir == "253072A07300443"


def test_logged_in_user_is_sent_to_their_account(client, titulaire):
    client.force_login(titulaire)
    assert client.get(URL).url == reverse("accounts:home")
