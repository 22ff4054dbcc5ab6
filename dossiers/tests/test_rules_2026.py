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


def permis_draft(titulaire, organisme, employment_status=None):
    formation = FormationFactory(organisme=organisme, certification=CertificationFactory(type="PERMIS", code="PERMIS-B"))
    session = SessionFactory(formation=formation, price_cents=120_000, duree_heures=30, start_date=f.start_in_working_days(20))
    return f.draft(titulaire, session, employment_status=employment_status)


def send(dossier, titulaire):
    return f._fire(dossier, "send", Actor.TITULAIRE, titulaire, {"consent": True})


@pytest.mark.parametrize(
    ("financeur", "cents", "sent"),
    [
        (None, 0, False),
        ("employeur", 9_999, False),
        ("employeur", 10_000, True),
        ("region", 10_000, True),
        ("opco", 10_000, True),
        ("france_travail", 10_000, True),
        ("c2p", 50_000, False),  # the titulaire's own points are not a third party
    ],
)
def test_a_salaries_permis_needs_100_euros_from_a_third_party(titulaire_with_rights, organisme, financeur, cents, sent):
    from dossiers import services

    dossier = permis_draft(titulaire_with_rights, organisme)
    if financeur:
        services.abondement_add(
            dossier=dossier, financeur=financeur, financeur_name="Transports Lorrains", amount_cents=cents, by=titulaire_with_rights
        )
    if sent:
        assert send(dossier, titulaire_with_rights).status == "sent"
    else:
        with pytest.raises(DossierError, match="que pour un demandeur d'emploi, ou avec un cofinancement d'au moins 100,00\u00a0€ par un tiers"):
            send(dossier, titulaire_with_rights)


# Half past midnight in Paris, still the day before in UTC: the dates written are the user's.
PARIS_AFTER_MIDNIGHT = datetime.datetime(2026, 11, 29, 23, 30, tzinfo=datetime.UTC)


def test_a_jobseekers_permis_needs_no_cofinancing_and_the_dossier_keeps_the_source(titulaire_with_rights, organisme, time_machine):
    """The situation validated in the dossier decides (not the account's), and the dossier
    records where the exemption comes from (on the titulaire's date)."""
    time_machine.move_to(PARIS_AFTER_MIDNIGHT, tick=False)
    assert titulaire_with_rights.employment_status != "demandeur_emploi"
    dossier = send(permis_draft(titulaire_with_rights, organisme, employment_status="demandeur_emploi"), titulaire_with_rights)
    assert dossier.status == "sent" and dossier.participation_cents == 0
    assert dossier.exemption == "vous êtes demandeur d'emploi"
    assert dossier.exemption_source == "Situation « Demandeur d'emploi » déclarée par le titulaire dans son dossier le 30/11/2026"


def test_an_atmp_abondement_records_who_added_it(titulaire_with_rights, organisme, time_machine):
    from accounts.tests.factories import ConseillerFactory
    from dossiers import services

    time_machine.move_to(PARIS_AFTER_MIDNIGHT, tick=False)

    dossier = f.sent(titulaire_with_rights, f.session_for(organisme))
    assert dossier.participation_cents > 0 and dossier.exemption_source == ""
    conseiller = ConseillerFactory(first_name="Claire", last_name="Martin")
    services.abondement_add(dossier=dossier, financeur="atmp", financeur_name="CPAM de Moselle", amount_cents=20_000, by=conseiller)
    dossier.refresh_from_db()
    assert dossier.participation_cents == 0
    assert (
        dossier.exemption_source
        == "Abondement AT/MP (incapacité d'au moins 10 %) CPAM de Moselle : 200,00\u00a0€, ajouté par Claire Martin le 30/11/2026"
    )


def test_the_permis_rule_starts_on_its_date(titulaire_with_rights, organisme):
    from dossiers.workflow import permis_refusal
    from financing.models import DatedRule

    dossier = permis_draft(titulaire_with_rights, organisme)
    start = DatedRule.objects.get(key=DatedRule.Key.PERMIS_MIN_COFINANCING).start_date
    assert permis_refusal(dossier, start - datetime.timedelta(days=1)) == ""
    assert "100,00\u00a0€" in permis_refusal(dossier, start)


def test_a_declared_cofinancing_belongs_to_the_draft(titulaire_with_rights, organisme, organisme_user):
    from dossiers import services

    dossier = permis_draft(titulaire_with_rights, organisme)
    mine = services.abondement_add(dossier=dossier, financeur="employeur", financeur_name="SNCF", amount_cents=10_000, by=titulaire_with_rights)
    with pytest.raises(DossierError, match="n'existe plus"):  # only the titulaire who declared it withdraws it
        services.abondement_withdraw(dossier=dossier, abondement_id=mine.pk, by=organisme_user)
    send(dossier, titulaire_with_rights)
    with pytest.raises(DossierError, match="avant l'envoi"):
        services.abondement_add(dossier=dossier, financeur="employeur", financeur_name="SNCF", amount_cents=10_000, by=titulaire_with_rights)
    with pytest.raises(DossierError, match="avant l'envoi"):
        services.abondement_withdraw(dossier=dossier, abondement_id=mine.pk, by=titulaire_with_rights)


def test_the_titulaire_declares_a_cofinancing_on_his_draft_page(client, titulaire_with_rights, organisme, organisme_user, other_titulaire):
    from django.urls import reverse

    from cpf_portal.testing import text

    dossier = permis_draft(titulaire_with_rights, organisme)
    page_url = reverse("dossiers:detail", args=[dossier.numero])
    url = reverse("dossiers:cofinancing", args=[dossier.numero])
    client.force_login(titulaire_with_rights)
    page = text(client.get(page_url))
    assert "Ce dossier ne peut pas encore être envoyé" in page and "Envoyer mon dossier" not in page
    post = {"financeur": "employeur", "financeur_name": "Transports Lorrains", "amount": "99,99", "version": dossier.version}
    # A wrong amount is refused next to its field, nothing saved.
    response = client.post(url, {**post, "amount": "abc"})
    assert response.status_code == 400 and "Saisissez un nombre." in text(response)
    assert not dossier.abondements.exists()
    response = client.post(url, post)
    assert response.status_code == 302, text(response)[-3000:]
    page = text(client.get(page_url))
    assert "Transports Lorrains (Employeur) : 99,99\u00a0€" in page and "Cofinancement déclaré à ce jour : 99,99\u00a0€." in page
    withdraw = reverse("dossiers:cofinancing-withdraw", args=[dossier.numero, dossier.abondements.get().pk])
    client.post(withdraw, {"version": dossier.version})
    client.post(url, {**post, "amount": "100,00"})
    page = text(client.get(page_url))
    assert "Ce dossier ne peut pas encore être envoyé" not in page and "Envoyer mon dossier" in page
    assert "Pas de participation forfaitaire obligatoire : votre employeur abonde votre formation." in page
    # Sent, the organisme reads the declared co-financing in the dossier.
    send(dossier, titulaire_with_rights)
    client.force_login(organisme_user)
    page = text(client.get(reverse("dossiers:organisme-detail", args=[dossier.numero])))
    assert "Cofinancement déclaré par le titulaire" in page and "Transports Lorrains (Employeur)" in page
    assert (
        "Exonération de la participation forfaitaire" in page and "Employeur Transports Lorrains : 100,00\u00a0€, ajouté par le titulaire le" in page
    )
    # Another titulaire's dossier is 404.
    client.force_login(other_titulaire)
    assert client.post(url, post).status_code == 404
    assert client.post(withdraw, {"version": dossier.version}).status_code == 404
