import pytest

from accounts.tests.factories import TitulaireFactory
from billing import services
from dossiers.tests import factories as f
from dossiers.workflow import Actor, Status

RIB = {"holder": "CP-FORMATION", "iban": "FR76 3000 4000 0100 0012 3456 789", "bic": "BNPAFRPPXXX"}


def finished(organisme_user, session, *, exit_reason="complete", rate=100, validate=True):
    """A dossier of a new titulaire (with 1 000 € of rights) on ``session``, trained and
    its service fait validated by the deadline (the organisme may bill it)."""
    titulaire = TitulaireFactory()
    f.give_rights(titulaire, 100_000)
    dossier = f.service_done(titulaire, session, organisme_user, exit_reason=exit_reason, rate=rate)
    if validate:
        dossier = f._fire(dossier, "validate_service", Actor.SYSTEM, None, now=dossier.deadline_at)
        assert dossier.status == Status.DEBITED
    return dossier


@pytest.fixture
def bank(organisme, organisme_user):
    return services.bank_account_save(organisme=organisme, by=organisme_user, **RIB)


@pytest.fixture
def other_bank(other_organisme, other_organisme_user):
    return services.bank_account_save(organisme=other_organisme, by=other_organisme_user, **RIB)
