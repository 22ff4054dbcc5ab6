import re

import pytest
from django.urls import reverse

from accounts.tests.factories import TitulaireFactory
from accounts.views import ACTIVATION_SESSION_KEY
from cpf_portal.testing import text

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")


def login(client, username, password="Formation2020", **extra):
    return client.post(LOGIN, {"username": username, "password": password, **extra}, REMOTE_ADDR="10.0.0.1")


def test_login_by_nir_with_spaces(client, titulaire):
    spaced = " ".join(
        [titulaire.nir[:1], titulaire.nir[1:3], titulaire.nir[3:5], titulaire.nir[5:7], titulaire.nir[7:10], titulaire.nir[10:13], titulaire.nir[13:]]
    )
    response = login(client, spaced)
    assert response.status_code == 302 and response.url == reverse("accounts:home")
    assert client.get(reverse("accounts:home")).context["user"] == titulaire


def test_login_by_email_whatever_the_case(client, titulaire):
    response = login(client, titulaire.email.upper())
    assert response.status_code == 302


def test_wrong_password_is_refused_in_french(client, titulaire):
    response = login(client, titulaire.email, "Mauvais2020")
    assert response.status_code == 400
    assert "Identifiant ou mot de passe incorrect." in text(response)
    assert "_auth_user_id" not in client.session


def test_login_is_refused_until_activation(client, db):
    user = TitulaireFactory(activated_at=None)
    response = login(client, user.email)
    html = text(response)
    assert response.status_code == 400
    assert "pas encore activé" in html
    assert reverse("accounts:activate") in html
    assert "_auth_user_id" not in client.session
    # The activation page now knows whom to activate.
    assert client.session[ACTIVATION_SESSION_KEY] == user.pk


def test_suspended_account_cannot_log_in(client, db):
    user = TitulaireFactory(is_active=False)
    assert login(client, user.email).status_code == 400


def test_lockout_after_repeated_failures(client, titulaire, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(client, titulaire.nir, "Mauvais2020").status_code == 400
    response = login(client, titulaire.nir, "Mauvais2020")
    assert response.status_code == 429
    assert "Connexion temporairement bloquée" in text(response)
    # Even the right password is refused while locked, also typed another way.
    response = login(client, titulaire.nir[:5] + " " + titulaire.nir[5:])
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_lockout_is_per_identifier(client, titulaire, other_titulaire, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, titulaire.nir, "Mauvais2020")
    assert login(client, other_titulaire.email).status_code == 302


def test_organisme_staff_lands_on_espace_organisme(client, organisme_user):
    response = login(client, organisme_user.email)
    assert response.url == reverse("dossiers:organisme-home")
    # After the password, the second factor (accounts/tests/test_two_factor.py) …
    assert client.get(response.url).url.startswith(reverse("accounts:two-factor-setup"))
    client.force_login(organisme_user)  # … given, the espace organisme opens.
    page = client.get(response.url)
    assert page.status_code == 200
    assert "Espace organisme" in text(page)
    assert organisme_user.organisme.raison_sociale in text(page)


def test_next_parameter_is_honoured_only_on_this_site(client, titulaire):
    assert login(client, titulaire.email, next="/mon-compte/mes-informations/").url == "/mon-compte/mes-informations/"
    client.logout()
    assert login(client, titulaire.email, next="https://evil.example/").url == reverse("accounts:home")


def test_logout_is_a_post(client, titulaire):
    client.force_login(titulaire)
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"), follow=True)
    assert "Vous êtes déconnecté." in text(response)
    assert "_auth_user_id" not in client.session


def test_password_reset_by_email(client, titulaire, mailoutbox, django_capture_on_commit_callbacks, send_queued_emails):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:password_reset"), {"email": titulaire.email})
    send_queued_emails()
    assert response.url == reverse("accounts:password_reset_done")
    assert len(mailoutbox) == 1
    link = re.search(r"http://testserver(/mot-de-passe-oublie/\S+/)", mailoutbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert "Choisir un nouveau mot de passe" in text(form_page)
    post_url = form_page.redirect_chain[-1][0]
    weak = client.post(post_url, {"new_password1": "abc", "new_password2": "abc"})
    assert weak.status_code == 400 and "trop court" in text(weak)
    done = client.post(post_url, {"new_password1": "Nouveau2026", "new_password2": "Nouveau2026"})
    assert done.url == reverse("accounts:password_reset_complete")
    titulaire.refresh_from_db()
    assert titulaire.check_password("Nouveau2026")


def test_password_reset_for_unknown_email_sends_nothing_but_says_the_same(
    client, db, mailoutbox, django_capture_on_commit_callbacks, send_queued_emails
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:password_reset"), {"email": "inconnu@exemple.fr"})
    send_queued_emails()
    assert response.url == reverse("accounts:password_reset_done")
    assert mailoutbox == []


@pytest.mark.parametrize(
    "data, message",
    [
        ({"old_password": "Mauvais2020", "new_password1": "Nouveau2026", "new_password2": "Nouveau2026"}, "ancien mot de passe est incorrect"),
        ({"old_password": "Formation2020", "new_password1": "nouveau2026", "new_password2": "nouveau2026"}, "majuscule"),
        ({"old_password": "Formation2020", "new_password1": "Nouveau2026", "new_password2": "Nouveau2027"}, "mots de passe ne correspondent pas"),
    ],
)
def test_change_password_refusals(client, titulaire, data, message):
    client.force_login(titulaire)
    response = client.post(reverse("accounts:password_change"), data)
    assert response.status_code == 400
    assert message in text(response)
    titulaire.refresh_from_db()
    assert titulaire.check_password("Formation2020")


def test_change_password(client, titulaire):
    client.force_login(titulaire)
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": "Formation2020", "new_password1": "Nouveau2026", "new_password2": "Nouveau2026"},
        follow=True,
    )
    assert "Votre mot de passe a été modifié." in text(response)
    titulaire.refresh_from_db()
    assert titulaire.check_password("Nouveau2026")
