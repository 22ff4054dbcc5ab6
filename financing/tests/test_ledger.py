import pytest
from django.db import IntegrityError, transaction

from financing import services
from financing.models import Movement, MovementKind
from financing.tests.factories import credit

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(titulaire):
    return services.account_for(titulaire)


def test_account_is_opened_once(titulaire):
    assert services.account_for(titulaire) == services.account_for(titulaire)


def test_every_movement_type_and_the_derived_balances(account, operator):
    credit(account, 50_000)  # alimentation
    services._append(account, MovementKind.DIF, 180_000, "Heures DIF : 120 h × 15 €")
    services.abondement_add(account=account, amount_cents=30_000, financeur="France Travail")
    assert services.balances(account) == {"acquired": 260_000, "locked": 0, "available": 260_000}

    services.rights_lock(account=account, amount_cents=87_000, label="Droits bloqués", reference="D1")
    assert services.balances(account) == {"acquired": 260_000, "locked": 87_000, "available": 173_000}

    services.rights_unlock(account=account, amount_cents=87_000, label="Droits débloqués", reference="D1")
    assert services.balances(account) == {"acquired": 260_000, "locked": 0, "available": 260_000}

    services.rights_lock(account=account, amount_cents=100_000, label="Droits bloqués", reference="D2")
    services.rights_debit(account=account, locked_cents=100_000, consumed_cents=60_000, reference="D2")  # prorated
    assert services.balances(account) == {"acquired": 200_000, "locked": 0, "available": 200_000}

    services.correction_add(account=account, amount_cents=-5_000, reason="Double crédit 2023", by=operator)
    services.correction_add(account=account, amount_cents=1_000, reason="Geste commercial", by=operator)
    assert services.balances(account)["available"] == 196_000
    assert set(Movement.objects.values_list("kind", flat=True)) == set(MovementKind.values)


def test_rights_cannot_be_locked_beyond_the_available(account):
    credit(account, 50_000)
    services.rights_lock(account=account, amount_cents=40_000, label="Droits bloqués", reference="D1")
    with pytest.raises(services.InsufficientRights) as refusal:
        services.rights_lock(account=account, amount_cents=10_001, label="Droits bloqués", reference="D2")
    assert "100,00" in str(refusal.value)
    assert Movement.objects.filter(kind="blocage").count() == 1


def test_debit_cannot_exceed_the_locked_rights(account):
    credit(account, 50_000)
    services.rights_lock(account=account, amount_cents=40_000, label="Droits bloqués", reference="D1")
    with pytest.raises(services.FinancingError):
        services.rights_debit(account=account, locked_cents=40_000, consumed_cents=40_001, reference="D1")
    assert services.balances(account)["locked"] == 40_000


def test_correction_needs_a_reason_and_an_amount(account, operator):
    with pytest.raises(services.FinancingError):
        services.correction_add(account=account, amount_cents=1_000, reason="  ", by=operator)
    with pytest.raises(services.FinancingError):
        services.correction_add(account=account, amount_cents=0, reason="rien", by=operator)
    assert not Movement.objects.exists()


def test_movements_are_never_edited_or_deleted(account):
    movement = credit(account, 50_000)
    movement.amount_cents = 1
    with pytest.raises(ValueError):
        movement.save()
    with pytest.raises(ValueError):
        movement.delete()
    assert Movement.objects.get().amount_cents == 50_000


@pytest.mark.parametrize(
    "kind, amount",
    [("alimentation", -100), ("blocage", -100), ("deblocage", 100), ("debit", 100), ("dif", 0), ("abondement", 0)],
)
def test_the_database_ties_the_sign_to_the_kind(account, kind, amount):
    with pytest.raises(IntegrityError), transaction.atomic():
        Movement.objects.bulk_create([Movement(account=account, kind=kind, amount_cents=amount, label="x")])


def test_one_yearly_credit_per_year_in_the_database(account):
    credit(account, 50_000, year=2022)
    with pytest.raises(IntegrityError), transaction.atomic():
        Movement.objects.bulk_create([Movement(account=account, kind="alimentation", amount_cents=1, label="x", year=2022)])
