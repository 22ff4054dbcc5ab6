"""Many concurrent operations on one account, on PostgreSQL: the row lock serialises them,
the available balance never goes below zero and the ledger sums exactly."""

import threading

import pytest
from django.db import connection

from accounts.tests.factories import TitulaireFactory
from financing import services
from financing.models import Movement
from financing.tests.factories import credit


@pytest.mark.django_db(transaction=True)
def test_concurrent_locks_never_overspend():
    account = services.account_for(TitulaireFactory())
    credit(account, 100_000)  # 1 000 €
    attempts, amount = 24, 10_000  # 24 × 100 € asked for, 10 can succeed
    barrier = threading.Barrier(attempts)
    outcomes, errors = [], []

    def lock(index):
        try:
            barrier.wait(timeout=30)
            services.rights_lock(account=account, amount_cents=amount, label="Droits bloqués", reference=f"D{index}")
            outcomes.append("ok")
        except services.InsufficientRights:
            outcomes.append("refused")
        except Exception as error:  # pragma: no cover - reported by the assertion below
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=lock, args=(index,)) for index in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert outcomes.count("ok") == 10 and outcomes.count("refused") == 14
    totals = services.balances(account)
    assert totals == {"acquired": 100_000, "locked": 100_000, "available": 0}
    assert Movement.objects.filter(account=account, kind="blocage").count() == 10
    assert sum(Movement.objects.filter(account=account).values_list("amount_cents", flat=True)) == 200_000


@pytest.mark.django_db(transaction=True)
def test_concurrent_credits_and_debits_sum_exactly():
    account = services.account_for(TitulaireFactory())
    credit(account, 50_000)

    def work(index):
        try:
            if index % 2:
                services.abondement_add(account=account, amount_cents=1_000, financeur="Employeur")
            else:
                services.rights_lock(account=account, amount_cents=2_000, label="Droits bloqués", reference=f"D{index}")
        except services.InsufficientRights:
            pass
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(index,)) for index in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    totals = services.balances(account)
    assert totals["acquired"] == 50_000 + 20 * 1_000
    assert totals["locked"] == 20 * 2_000
    assert totals["available"] >= 0
