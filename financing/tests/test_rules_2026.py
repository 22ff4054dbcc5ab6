"""The rules in force (issue 16, domain §12.3): the caps of the rights by type d'action, from
a dated table, and every exemption from the participation forfaitaire with its reason."""

import datetime

import pytest
from django.core.management import call_command

from financing import services
from financing.models import DatedRule, FundingCap, ParticipationForfaitaire

pytestmark = pytest.mark.django_db
IN_FORCE = datetime.date(2026, 11, 22)
PF = 10_320  # the participation forfaitaire in force


@pytest.mark.parametrize(
    ("action_type", "code", "cap"),
    [
        ("RS", "5367", 150_000),
        ("RS", "5080", None),
        ("BILAN", "BILAN", 160_000),
        ("PERMIS", "PERMIS-B", 90_000),
        ("RNCP", "38365", None),
        ("VAE", "VAE", None),
    ],
)
def test_the_2026_caps_by_type_of_action(action_type, code, cap):
    assert services.cap_on(IN_FORCE, action_type, code) == cap


@pytest.mark.parametrize(
    ("price", "droits", "reste", "capped"),
    [
        (160_000 + PF, 160_000, PF, False),  # exactly the cap: the rights pay it all (less the participation)
        (160_001 + PF, 160_000, PF + 1, True),  # one cent more: the cap binds
        (200_000, 160_000, 40_000, True),  # the bilan at 2 000 €: 400 € including the participation
    ],
)
def test_the_cap_of_a_bilan_with_its_boundary(price, droits, reste, capped):
    cap = services.cap_on(IN_FORCE, "BILAN")
    split = services.compute_split(
        price_cents=price, available_cents=500_000, on_date=IN_FORCE, cap_cents=cap, cap_label=services.CAP_LABELS["BILAN"]
    )
    assert (split.droits_cents, split.reste_a_payer_cents, split.capped) == (droits, reste, capped)
    assert split.participation_cents == PF  # inside the reste à payer


@pytest.mark.parametrize(("price", "droits"), [(150_000 + PF, 150_000), (150_001 + PF, 150_000), (150_000, 150_000 - PF)])
def test_the_cap_of_an_rs_certification_at_1500_euros(price, droits):
    split = services.compute_split(price_cents=price, available_cents=500_000, on_date=IN_FORCE, cap_cents=services.cap_on(IN_FORCE, "RS", "5367"))
    assert split.droits_cents == droits and split.reste_a_payer_cents == price - droits


def test_the_dated_table_switches_at_midnight_on_its_date():
    FundingCap.objects.create(action_type="BILAN", start_date=datetime.date(2027, 1, 1), amount_cents=180_000, source="test")
    assert services.cap_on(datetime.date(2026, 12, 31), "BILAN") == 160_000
    assert services.cap_on(datetime.date(2027, 1, 1), "BILAN") == 180_000
    assert services.cap_on(datetime.date(2026, 2, 28), "BILAN") is None  # before the first row: no cap


@pytest.mark.parametrize(
    ("status", "financeurs", "reason"),
    [
        ("demandeur_emploi", [], "vous êtes demandeur d'emploi"),
        ("salarie", ["employeur"], "votre employeur abonde votre formation"),
        ("salarie", ["opco"], "un OPCO, votre branche ou un accord de groupe cofinance votre formation"),
        ("salarie", ["c2p"], "vous utilisez vos points C2P pour une reconversion"),
        ("salarie", ["atmp"], "vous utilisez votre abondement de victime d'accident du travail ou de maladie professionnelle"),
        ("salarie", ["region", "france_travail", "autre"], ""),
        ("salarie", [], ""),
    ],
)
def test_every_exemption_from_the_participation_with_its_reason(status, financeurs, reason):
    assert services.participation_exemption(status, financeurs) == reason
    split = services.compute_split(price_cents=50_000, available_cents=75_000, on_date=IN_FORCE, exemption=reason)
    assert split.participation_cents == (0 if reason else PF) and split.exemption == reason


def test_the_help_page_explains_the_rules_from_the_same_tables(client):
    from django.urls import reverse

    from cpf_portal.testing import text

    page = text(client.get(reverse("aide-cpf"))).replace("\u202f", " ").replace("\xa0", " ")
    assert "1 600,00 € pour un bilan de compétences" in page and "900,00 € pour un permis de conduire" in page
    assert "sauf la certification 5080" in page and "103,20 € aujourd'hui" in page
    assert "vous utilisez vos points C2P pour une reconversion" in page
    assert "Un bilan de compétences est financé s'il dure au moins 13 heures, un seul tous les 5 ans." in page
    assert "l'obtient avec un cofinancement d'au moins 100,00 € par un tiers" in page


def test_a_bilan_at_2000_euros_shows_1600_euros_of_rights_and_the_cap(client, titulaire, organisme):
    from django.urls import reverse

    from catalogue.tests.factories import CertificationFactory, FormationFactory, SessionFactory
    from cpf_portal.testing import text
    from dossiers.tests import factories as f

    f.give_rights(titulaire, 500_000)
    bilan = FormationFactory(organisme=organisme, certification=CertificationFactory(type="BILAN", code="BILAN"))
    dossier = f.draft(titulaire, SessionFactory(formation=bilan, price_cents=200_000, duree_heures=24))
    client.force_login(titulaire)
    page = text(client.get(reverse("dossiers:detail", args=[dossier.numero]))).replace("\u202f", " ").replace("\xa0", " ")
    assert "− 1 600,00 €" in page and "400,00 €" in page
    assert "Vos droits peuvent financer au plus 1 600,00 € pour un bilan de compétences." in page
    assert "Le reste à payer inclut la participation forfaitaire obligatoire de 103,20 €." in page


@pytest.mark.django_db(transaction=True)
def test_the_rules_in_force_come_back_after_a_flush_and_never_over_an_operators_rows():
    call_command("flush", interactive=False, verbosity=0)
    assert ParticipationForfaitaire.objects.count() == 3 and FundingCap.objects.count() == 3
    assert set(DatedRule.objects.values_list("key", flat=True)) >= {DatedRule.Key.PERMIS_MIN_COFINANCING, DatedRule.Key.BILAN_MIN_HOURS}
    # An operator's change stands: a table that holds rows is left as it is.
    ParticipationForfaitaire.objects.exclude(start_date=datetime.date(2026, 1, 1)).delete()
    ParticipationForfaitaire.objects.update(amount_cents=15_000)
    call_command("migrate", verbosity=0)
    assert list(ParticipationForfaitaire.objects.values_list("amount_cents", flat=True)) == [15_000]
