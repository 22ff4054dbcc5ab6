import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from cpf_portal.testing import text
from financing import services
from financing.tests.factories import attestation, credit

pytestmark = pytest.mark.django_db
URL = reverse("financing:rights")


def test_rights_page(client, titulaire, settings):
    settings.CPF_DIF_DEADLINE = timezone.localdate() + datetime.timedelta(days=10)
    account = services.account_for(titulaire)
    credit(account, 50_000, year=2023)
    services.rights_lock(account=account, amount_cents=20_000, label="Droits bloqués pour le dossier n° 3859095851", reference="3859095851")
    client.force_login(titulaire)
    html = text(client.get(URL))
    assert "Mes droits formation" in html
    assert "Droits disponibles" in html and "300,00" in html
    assert "Droits bloqués" in html and "200,00" in html
    assert "Alimentation du compte 2023" in html and "+ 500,00" in html
    assert "<svg" in html and "Évolution de mes droits disponibles" in html
    assert "Saisir mon solde DIF" in html


def test_after_the_deadline_the_dif_link_gives_way_to_the_message(client, titulaire, settings):
    settings.CPF_DIF_DEADLINE = datetime.date(2020, 12, 31)
    client.force_login(titulaire)
    html = text(client.get(URL))
    assert "Saisir mon solde DIF" not in html
    assert "Vos heures DIF non saisies avant le 31/12/2020 sont perdues." in html


def test_declared_dif_is_listed_with_its_attestation(client, titulaire, settings):
    settings.CPF_DIF_DEADLINE = timezone.localdate() + datetime.timedelta(days=10)
    services.dif_declare(account=services.account_for(titulaire), situation="un", attestations=[attestation(50, employer="Boulangerie Martin")])
    client.force_login(titulaire)
    html = text(client.get(URL))
    assert "50 h de DIF" in html and "En cours de contrôle" in html and "Attestation de Boulangerie Martin" in html
    assert "Heures DIF : 50 h × 15 €" in html


def test_rights_page_needs_a_titulaire(client, organisme_user):
    assert client.get(URL).status_code == 302
    client.force_login(organisme_user)
    assert client.get(URL).status_code == 403


def test_rights_page_runs_a_fixed_number_of_queries(client, titulaire, django_assert_max_num_queries):
    account = services.account_for(titulaire)
    credit(account, 50_000, year=2019)
    client.force_login(titulaire)
    with django_assert_max_num_queries(15) as few:
        client.get(URL)
    for year in range(2020, 2026):
        credit(account, 50_000, year=year)
    for index in range(20):
        services.abondement_add(account=account, amount_cents=100, financeur=f"Financeur {index}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(URL).status_code == 200
