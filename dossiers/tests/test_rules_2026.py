"""The dossier rules in force (issue 16): a bilan de compétences lasts at least 13 h and is
financed once every 5 years; a titulaire has at most 5 open requests for one action."""

import datetime

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone

from catalogue.tests.factories import CertificationFactory, FormationFactory, SessionFactory
from dossiers.models import Dossier
from dossiers.states import Actor, DossierError
from dossiers.tests import factories as f

pytestmark = pytest.mark.django_db


def bilan_session(organisme, hours=24):
    formation = FormationFactory(organisme=organisme, certification=CertificationFactory(type="BILAN", code="BILAN"))
    return SessionFactory(formation=formation, price_cents=150_000, duree_heures=hours, start_date=f.start_in_working_days(20))


@pytest.mark.parametrize(("hours", "sent"), [(13, True), (12, False)])
def test_a_bilan_lasts_at_least_13_hours(titulaire_with_rights, organisme, hours, sent):
    dossier = f.draft(titulaire_with_rights, bilan_session(organisme, hours))
    fire = lambda: f._fire(dossier, "send", Actor.TITULAIRE, titulaire_with_rights, {"consent": True})  # noqa: E731
    if sent:
        assert fire().status == "sent"
    else:
        with pytest.raises(DossierError, match="au moins 13 heures \\(celui-ci : 12 h\\)"):
            fire()


@pytest.mark.parametrize(("ago", "allowed"), [(relativedelta(years=5, days=-1), False), (relativedelta(years=5), True)])
def test_one_bilan_every_five_years(titulaire_with_rights, organisme, organisme_user, ago, allowed):
    first = f.accepted(titulaire_with_rights, bilan_session(organisme), organisme_user)
    accepted_at = timezone.now() - ago
    Dossier.objects.filter(pk=first.pk).update(accepted_at=accepted_at)
    second = f.draft(titulaire_with_rights, bilan_session(organisme))
    fire = lambda: f._fire(second, "send", Actor.TITULAIRE, titulaire_with_rights, {"consent": True})  # noqa: E731
    if allowed:
        assert fire().status == "sent"
    else:
        possible = timezone.localdate(accepted_at + relativedelta(years=5))
        with pytest.raises(DossierError, match=f"à partir du {possible:%d/%m/%Y}"):
            fire()


def test_other_trainings_are_not_bilans(titulaire_with_rights, organisme):
    dossier = f.draft(titulaire_with_rights, SessionFactory(formation=FormationFactory(organisme=organisme), duree_heures=7))
    assert f._fire(dossier, "send", Actor.TITULAIRE, titulaire_with_rights, {"consent": True}).status == "sent"


def test_at_most_five_open_requests_for_one_action(titulaire_with_rights, organisme):
    session = f.session_for(organisme)
    action = session.action
    for _ in range(5):
        f.draft(titulaire_with_rights, SessionFactory(action=action, start_date=timezone.localdate() + datetime.timedelta(days=40)))
    with pytest.raises(DossierError, match="déjà 5 demandes en cours pour cette formation"):
        f.draft(titulaire_with_rights, SessionFactory(action=action))
    # Another action of the same formation, or another formation: allowed.
    assert f.draft(titulaire_with_rights, f.session_for(organisme)).status == "draft"


def test_the_rules_are_dated_rows_an_operator_adds(titulaire_with_rights, organisme):
    """A new minimum from tomorrow: today's request is sent under today's rule."""
    from financing.models import DatedRule
    from financing.services import rule_on

    today = timezone.localdate()
    DatedRule.objects.create(key=DatedRule.Key.BILAN_MIN_HOURS, start_date=today + datetime.timedelta(days=1), value=20)
    assert rule_on(DatedRule.Key.BILAN_MIN_HOURS, today) == 13
    assert rule_on(DatedRule.Key.BILAN_MIN_HOURS, today + datetime.timedelta(days=1)) == 20
    assert rule_on(DatedRule.Key.BILAN_MIN_HOURS, datetime.date(2026, 2, 28)) is None  # before the first row: no rule
    dossier = f.draft(titulaire_with_rights, bilan_session(organisme, 15))
    assert f._fire(dossier, "send", Actor.TITULAIRE, titulaire_with_rights, {"consent": True}).status == "sent"
