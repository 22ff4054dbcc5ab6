from decimal import Decimal

import pytest

from accounts.tests.factories import TitulaireFactory
from financing import services
from financing.models import Movement, YearlyDeclaration
from financing.tests.factories import credit
from financing.yearly import import_yearly

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "status, hours, low, cents",
    [
        ("salarie", 1607, False, 50_000),
        ("salarie", "803.5", False, 50_000),  # half the legal time: the full year
        ("salarie", 400, False, 12_446),  # 500 € × 400 / 1 607 = 124,455… rounded up to the cent
        ("salarie", 0, False, 0),
        ("salarie", 2000, True, 80_000),  # without a level-3 qualification
        ("salarie", 400, True, 19_913),
        ("independant", 1607, False, 50_000),
        ("independant", 800, False, 24_892),  # independents: prorata, no half-time rule
        ("artiste_auteur", 1000, False, 31_114),
    ],
)
def test_yearly_amount(status, hours, low, cents):
    assert services.yearly_amount(status=status, hours_worked=Decimal(str(hours)), low_qualification=low) == cents


def test_yearly_credit_posts_once_per_year(titulaire):
    account = services.account_for(titulaire)
    first = services.yearly_credit(account=account, year=2023, status="salarie", hours_worked=Decimal(1607), low_qualification=False)
    assert first.credited_cents == 50_000 and first.movement.label == "Alimentation du compte 2023"
    assert services.yearly_credit(account=account, year=2023, status="salarie", hours_worked=Decimal(1607), low_qualification=False) is None
    assert Movement.objects.filter(kind="alimentation").count() == 1


def test_ceiling_limits_the_yearly_credit(titulaire):
    account = services.account_for(titulaire)
    credit(account, 480_000, year=2020)
    partial = services.yearly_credit(account=account, year=2021, status="salarie", hours_worked=Decimal(1607), low_qualification=False)
    assert partial.computed_cents == 50_000 and partial.credited_cents == 20_000
    full = services.yearly_credit(account=account, year=2022, status="salarie", hours_worked=Decimal(1607), low_qualification=False)
    assert full.credited_cents == 0 and full.movement is None
    assert services.balances(account)["acquired"] == 500_000


def test_low_qualification_ceiling_is_8000(titulaire):
    account = services.account_for(titulaire)
    credit(account, 500_000, year=2020)
    declaration = services.yearly_credit(account=account, year=2021, status="salarie", hours_worked=Decimal(1607), low_qualification=True)
    assert declaration.credited_cents == 80_000


def test_dif_and_abondements_do_not_count_in_the_ceiling(titulaire):
    account = services.account_for(titulaire)
    credit(account, 450_000, year=2020)
    services._append(account, "dif", 180_000, "Heures DIF")
    services.abondement_add(account=account, amount_cents=100_000, financeur="Employeur")
    declaration = services.yearly_credit(account=account, year=2021, status="salarie", hours_worked=Decimal(1607), low_qualification=False)
    assert declaration.credited_cents == 50_000


def test_import_credits_reports_and_is_idempotent(titulaire):
    low = TitulaireFactory(diploma="sans")
    text = (
        "nir;annee;statut;heures_travaillees;faible_qualification\n"
        f"{titulaire.nir};2023;salarie;1607;\n"
        f"{low.nir};2023;salarie;1607;\n"
        f"{titulaire.nir};2022;independant;803,5;\n"
        "295109912611199;2023;salarie;1607;\n"  # bad key
        "255081416802538;2023;salarie;1607;\n"  # valid NIR, no account
        f"{titulaire.nir};2099;salarie;1607;\n"
        f"{titulaire.nir};2021;chomeur;1607;\n"
        f"{titulaire.nir};2020;salarie;beaucoup;\n"
    )
    report = import_yearly(text, current_year=2026)
    assert report.credited == 3 and report.credited_cents == 50_000 + 80_000 + 25_000
    reasons = dict(report.rejected)
    assert set(reasons) == {5, 6, 7, 8, 9}
    assert "clé" in reasons[5] and "aucun compte" in reasons[6] and "2099" in reasons[7] and "chomeur" in reasons[8] and "nombre" in reasons[9]
    again = import_yearly(text, current_year=2026)
    assert again.credited == 0 and again.already == 3
    assert Movement.objects.filter(kind="alimentation").count() == 3
    assert YearlyDeclaration.objects.get(account__user=low).low_qualification


def test_import_command(titulaire, tmp_path, capsys):
    from django.core.management import call_command

    path = tmp_path / "declarations.csv"
    path.write_text(f"nir;annee;statut;heures_travaillees\n{titulaire.nir};2024;salarie;1607\n", encoding="utf-8")
    call_command("import_alimentations", str(path))
    assert "1 compte(s) crédité(s) pour 500,00" in capsys.readouterr().out
