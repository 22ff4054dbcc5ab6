"""The simulated DSN: a new account's rights in the demo, as the employers' declarations would
give them (financing.dsn)."""

import datetime
import re
from decimal import ROUND_CEILING, Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from accounts.models import User
from accounts.tests.factories import TitulaireFactory, nir_for
from financing import dsn, services
from financing.models import CpfAccount, Movement, YearlyDeclaration

TODAY = datetime.date(2026, 11, 29)
# Many people: born from 1958 to 2010, men and women, across départements.
PEOPLE = [
    (
        nir_for(datetime.date(1958 + n % 53, n % 12 + 1, 1), sex="12"[n % 2], departement=f"{n % 95 + 1:02d}".replace("20", "21"), order=n % 999 + 1),
        1958 + n % 53,
    )
    for n in range(600)
]


def careers(today=TODAY):
    return [(nir, born, dsn.simulated_career(nir, today=today, birth_year=born)) for nir, born in PEOPLE]


def test_the_same_nir_always_gets_the_same_career_and_another_nir_another():
    nir, born = PEOPLE[7]
    assert dsn.simulated_career(nir, today=TODAY) == dsn.simulated_career(nir, today=TODAY)
    assert dsn.simulated_career(nir, today=TODAY, birth_year=born) == dsn.simulated_career(nir, today=TODAY)  # the NIR's year
    distinct = {tuple(career) for _nir, _born, career in careers() if career}
    assert len(distinct) > 400
    # Next year's credit adds a year and changes none of the earlier ones.
    for nir, born, career in careers():
        later = dsn.simulated_career(nir, today=datetime.date(2028, 7, 1), birth_year=born)
        assert later[: len(career)] == career and {d.year for d in later[len(career) :]} <= {2026, 2027}


def test_careers_are_plausible_from_2019_to_last_year_from_16_years_old():
    everyone = careers()
    for _nir, born, career in everyone:
        for declared in career:
            assert 2019 <= declared.year <= TODAY.year - 1
            assert declared.year - born >= 16 and declared.year - born <= 64
    years = [declared for _nir, _born, career in everyone for declared in career]
    legal = services.LEGAL_HOURS_PER_YEAR
    full_time = [d for d in years if d.hours_worked == legal]
    part_time_prorata = [d for d in years if d.status == "salarie" and d.hours_worked < legal / 2]
    part_time_full_year = [d for d in years if d.status == "salarie" and legal / 2 <= d.hours_worked < legal]
    assert len(full_time) > len(years) / 2 and part_time_prorata and part_time_full_year
    assert {d.status for d in years} == {"salarie", "independant"}
    # A year without work now and then: a gap inside a career.
    assert any(set(range(career[0].year, career[-1].year + 1)) - {d.year for d in career} for _n, _b, career in everyone if career)
    # About one person in eight without a level-3 qualification (800 € a year).
    low = [career for _n, _b, career in everyone if career and career[0].low_qualification]
    with_career = [career for _n, _b, career in everyone if career]
    assert 0.06 < len(low) / len(with_career) < 0.2
    assert all(len({d.low_qualification for d in career}) == 1 for career in with_career)
    # Born in 2010: 16 in 2026, no year worked yet; born in 2005: not before 2021.
    assert dsn.simulated_career(nir_for(datetime.date(2010, 3, 1)), today=TODAY) == []
    assert all(d.year >= 2021 for d in dsn.simulated_career(nir_for(datetime.date(2005, 3, 1), order=4), today=TODAY))


def test_credits_are_dated_in_the_first_half_of_the_following_year_and_never_ahead():
    for _nir, _born, career in careers():
        for declared in career:
            assert declared.credited_on.year == declared.year + 1
            assert datetime.date(declared.year + 1, 2, 1) <= declared.credited_on <= datetime.date(declared.year + 1, 6, 30)
            assert declared.credited_on <= TODAY
    # On 1 February 2026, the 2025 credits are not all there yet: those of later days come later.
    early = datetime.date(2026, 2, 1)
    last_year = [d for _n, _b, career in careers(early) for d in career if d.year == 2025]
    assert all(d.credited_on <= early for d in last_year) and len(last_year) < len([d for _n, _b, c in careers() for d in c if d.year == 2025])


@pytest.mark.django_db
def test_loading_credits_through_the_ledger_dated_as_the_real_credits_and_only_once():
    titulaire = TitulaireFactory(nir=PEOPLE[11][0], birth_date=datetime.date(PEOPLE[11][1], 1, 1))
    account = services.account_for(titulaire)
    expected = dsn.simulated_career(titulaire.nir, today=TODAY, birth_year=PEOPLE[11][1])
    assert expected, "this person worked"
    made = dsn.load_simulated(account, today=TODAY)
    assert [d.year for d in made] == [d.year for d in expected]
    assert {d.source for d in made} == {YearlyDeclaration.Source.SIMULATED}
    for declaration, declared in zip(made, expected, strict=True):
        if declaration.movement is not None:
            assert timezone.localdate(declaration.movement.created_at) == declared.credited_on
            assert declaration.movement.label == f"Alimentation du compte {declared.year}"
    total = sum(d.credited_cents for d in made)
    assert services.balances(account)["available"] == total > 0
    # Idempotent: a second load (or the import of the same years) credits nothing.
    assert dsn.load_simulated(account, today=TODAY) == []
    assert Movement.objects.filter(account=account).count() == len([d for d in made if d.movement])
    assert services.balances(account)["available"] == total


def _person(low_qualification: bool, *, today: datetime.date) -> tuple[str, int]:
    return next(
        (nir, born)
        for nir, born in PEOPLE
        if 1975 <= born < 1990
        and len(career := dsn.simulated_career(nir, today=today, birth_year=born)) >= 20
        and career[0].low_qualification == low_qualification
    )


@pytest.mark.django_db
@pytest.mark.parametrize("low_qualification, full, ceiling", [(False, 50_000, 500_000), (True, 80_000, 800_000)])
def test_the_ceilings_hold_for_both_profiles(low_qualification, full, ceiling):
    """Over a long career (up to 2040) the credits stop at 5 000 € (8 000 € without a level-3
    qualification); each year is at most the full year's amount."""
    far = datetime.date(2041, 12, 31)
    nir, born = _person(low_qualification, today=far)
    account = services.account_for(TitulaireFactory(nir=nir, birth_date=datetime.date(born, 1, 1)))
    made = dsn.load_simulated(account, today=far)
    assert all(d.low_qualification == low_qualification and d.credited_cents <= d.computed_cents <= full for d in made)
    assert services.balances(account)["acquired"] == ceiling
    assert made[-1].credited_cents == 0 and made[-1].movement is None  # the ceiling reached


@pytest.mark.django_db
def test_a_year_below_half_time_is_a_prorata():
    nir, born, declared = next(
        (nir, born, d)
        for nir, born, career in careers()
        for d in career
        if d.status == "salarie" and d.hours_worked < services.LEGAL_HOURS_PER_YEAR / 2
    )
    account = services.account_for(TitulaireFactory(nir=nir, birth_date=datetime.date(born, 1, 1)))
    dsn.load_simulated(account, today=TODAY)
    declaration = YearlyDeclaration.objects.get(account=account, year=declared.year)
    full = 80_000 if declared.low_qualification else 50_000
    expected = int((Decimal(full) * declared.hours_worked / services.LEGAL_HOURS_PER_YEAR).to_integral_value(rounding=ROUND_CEILING))
    assert declaration.computed_cents == expected < full
    assert declaration.hours_worked == declared.hours_worked


@pytest.mark.django_db
def test_a_new_titulaire_gets_his_career_when_the_setting_is_on(settings):
    settings.CPF_SIMULATED_DSN = True
    nir, born = PEOPLE[11]
    titulaire = TitulaireFactory(nir=nir, birth_date=datetime.date(born, 1, 1))  # activated: the account opens
    account = CpfAccount.objects.get(user=titulaire)
    years = list(YearlyDeclaration.objects.filter(account=account).order_by("year").values_list("year", flat=True))
    assert years == [d.year for d in dsn.simulated_career(nir, today=timezone.localdate(), birth_year=born)]
    count = Movement.objects.count()
    services.account_for(titulaire)
    titulaire.save(update_fields=["activated_at"])
    assert Movement.objects.count() == count  # never twice
    # The demo's people with a written career get none.
    with dsn.scripted():
        scripted = TitulaireFactory(nir=PEOPLE[12][0], birth_date=datetime.date(PEOPLE[12][1], 1, 1))
    assert not CpfAccount.objects.filter(user=scripted).exists()


@pytest.mark.django_db
def test_with_the_setting_off_a_new_account_holds_nothing(titulaire):
    account = services.account_for(titulaire)
    assert services.balances(account)["acquired"] == 0 and not YearlyDeclaration.objects.exists()


@pytest.mark.django_db
def test_signup_and_activation_land_on_credited_rights(settings, client, mailoutbox, django_capture_on_commit_callbacks, send_queued_emails):
    settings.CPF_SIMULATED_DSN = True
    nir, born = PEOPLE[11]
    with django_capture_on_commit_callbacks(execute=True):
        user = account_services.titulaire_signup(
            nir=nir,
            first_name="Léo",
            last_name="Martin",
            birth_date=datetime.date(born, 1, 1),
            email="leo.martin@exemple.fr",
            password="Formation2020",
            apprenticeship_contract=False,
        )
    send_queued_emails()
    assert not CpfAccount.objects.filter(user=user).exists()  # not before the activation
    code = re.search(r"\b(\d{6})\b", mailoutbox[-1].body).group(1)
    account_services.activation_code_check(user=User.objects.get(pk=user.pk), code=code)
    career = dsn.simulated_career(nir, today=timezone.localdate(), birth_year=born)
    client.force_login(user)
    html = client.get(reverse("financing:rights")).content.decode()
    for declared in career:
        assert f"Alimentation du compte {declared.year}" in html
    assert sum(d.credited_cents for d in YearlyDeclaration.objects.filter(account__user=user)) > 0
