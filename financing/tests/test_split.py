import datetime

import pytest

from financing import services

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "day, cents",
    [
        (datetime.date(2020, 12, 1), 0),
        (datetime.date(2024, 5, 1), 0),
        (datetime.date(2024, 5, 2), 10_000),
        (datetime.date(2025, 6, 1), 10_223),
        (datetime.date(2026, 11, 22), 10_320),
    ],
)
def test_participation_forfaitaire_by_date(day, cents):
    assert services.participation_on(day) == cents


def test_the_seed_example_in_2020():
    split = services.compute_split(price_cents=87_000, available_cents=75_000, on_date=datetime.date(2020, 9, 1))
    assert (split.droits_cents, split.reste_a_payer_cents, split.participation_cents) == (75_000, 12_000, 0)


def test_the_seed_example_today_includes_the_participation():
    split = services.compute_split(price_cents=87_000, available_cents=75_000, on_date=datetime.date(2026, 11, 22))
    assert (split.droits_cents, split.reste_a_payer_cents) == (75_000, 12_000)  # 120 € ≥ 103,20 €: already inside


def test_rights_cover_all_but_the_participation():
    split = services.compute_split(price_cents=50_000, available_cents=75_000, on_date=datetime.date(2026, 11, 22))
    assert (split.droits_cents, split.reste_a_payer_cents, split.participation_cents) == (39_680, 10_320, 10_320)


def test_exempt_people_pay_nothing_when_rights_cover_the_price():
    split = services.compute_split(price_cents=50_000, available_cents=75_000, on_date=datetime.date(2026, 11, 22), exemption=services.JOBSEEKER)
    assert (split.droits_cents, split.reste_a_payer_cents) == (50_000, 0) and split.covered_by_rights


def test_abondements_reduce_the_reste_a_payer_first():
    split = services.compute_split(price_cents=87_000, available_cents=50_000, abondements_cents=20_000, on_date=datetime.date(2020, 1, 1))
    assert (split.abondements_cents, split.droits_cents, split.reste_a_payer_cents) == (20_000, 50_000, 17_000)
    big = services.compute_split(price_cents=87_000, available_cents=50_000, abondements_cents=100_000, on_date=datetime.date(2020, 1, 1))
    assert (big.abondements_cents, big.droits_cents, big.reste_a_payer_cents) == (87_000, 0, 0)


def test_no_rights_at_all():
    split = services.compute_split(price_cents=87_000, available_cents=0, on_date=datetime.date(2026, 1, 1))
    assert (split.droits_cents, split.reste_a_payer_cents) == (0, 87_000)


def test_jobseekers_are_exempt(titulaire):
    assert not services.participation_exemption(titulaire.employment_status)
    titulaire.employment_status = "demandeur_emploi"
    assert services.participation_exemption(titulaire.employment_status)
    assert services.participation_exemption("", ["employeur"])
