import pytest
from django.urls import reverse

from cpf_portal.testing import text

pytestmark = pytest.mark.django_db


def test_user_list_masks_the_nir(client, operator, titulaire):
    client.force_login(operator)
    response = client.get(reverse("admin:accounts_user_changelist"))
    html = text(response)
    assert response.status_code == 200
    assert titulaire.email in html
    assert titulaire.nir not in html
    assert titulaire.nir_masked in html


def test_admin_pages_open(client, operator, titulaire, organisme):
    client.force_login(operator)
    for url in (
        reverse("admin:accounts_user_change", args=[titulaire.pk]),
        reverse("admin:accounts_user_add"),
        reverse("admin:catalogue_organisme_changelist"),
        reverse("admin:catalogue_organisme_change", args=[organisme.pk]),
        reverse("admin:notifications_email_changelist"),
    ):
        assert client.get(url).status_code == 200, url


def test_admin_creates_organisme_staff(client, operator, organisme):
    client.force_login(operator)
    response = client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "agent@of.example",
            "role": "organisme",
            "organisme": organisme.pk,
            "nir": "",
            "password1": "Formation2020",
            "password2": "Formation2020",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302
    from accounts.models import User

    agent = User.objects.get(email="agent@of.example")
    assert agent.organisme == organisme and agent.nir is None


def test_titulaire_cannot_open_admin(client, titulaire):
    client.force_login(titulaire)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
