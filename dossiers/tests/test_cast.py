"""The root cast's ``make_dossier`` reaches every state through the real transitions."""

import itertools

import pytest

from dossiers.models import DossierEvent
from dossiers.workflow import Status
from financing import services as money


@pytest.mark.parametrize("status", Status.values)
def test_make_dossier_reaches_every_state_through_the_transitions(make_dossier, titulaire_with_rights, status):
    dossier = make_dossier(status)
    dossier.refresh_from_db()
    assert dossier.status == status
    events = list(DossierEvent.objects.filter(dossier=dossier).order_by("id"))
    assert events[-1].to_status == status
    assert all(before.to_status == after.from_status for before, after in itertools.pairwise(events[1:]))
    # The ledger still adds up: never more spent or blocked than the 750 € of rights.
    balances = money.balances(money.account_for(titulaire_with_rights))
    assert 0 <= balances["available"] <= 75_000


def test_the_cast_has_one_of_each_role(titulaire, other_titulaire, organisme_user, other_organisme_user, conseiller, operator):
    assert titulaire.pk != other_titulaire.pk
    assert organisme_user.organisme_id != other_organisme_user.organisme_id
    assert conseiller.structure.name == "France Travail Metz Nord"
    assert operator.is_staff
