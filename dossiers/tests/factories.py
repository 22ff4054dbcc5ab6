"""Dossiers in every state, built through the real services (so the ledger stays true)."""

import datetime
import uuid

from django.utils import timezone

from catalogue.tests.factories import FormationFactory, SessionFactory, commune
from dossiers import deadlines, services
from dossiers.workflow import Actor
from financing import payments
from financing import services as money

CARD = payments.Card(number="4242424242424242", expiry_month=12, expiry_year=2099, cvc="987")

PROFESSIONAL = {"diploma": "niv4", "diploma_year": 2012, "socio_professional_category": "5", "employment_status": "salarie"}
PERSONAL = {
    "first_name": "Camille",
    "usage_name": "",
    "last_name": "Durand",
    "phone_mobile": "0612345678",
    "phone_landline": "",
    "email": "camille@exemple.fr",
    "street_number": "12",
    "street_repetition": "",
    "street_type": "RUE",
    "street_name": "Serpenoise",
    "address_complement": "",
    "locality": "",
    "postal_code": "57000",
    "city": "Metz",
}


def start_in_working_days(count: int = 15) -> datetime.date:
    return deadlines.add_working_days(timezone.localdate(), count)


def give_rights(titulaire, cents: int):
    account = money.account_for(titulaire)
    money._append(account, "alimentation", cents, "Alimentation du compte 2023", year=2023)
    return account


def session_for(organisme, *, price_cents=87_000, start=None, duree=10, days=4, tva=0):
    start = start or start_in_working_days(20)
    formation = FormationFactory(organisme=organisme, intitule="Anglais - Test Bright Language - évaluation d'Anglais professionnel")
    return SessionFactory(
        formation=formation,
        commune=commune("metz"),
        price_cents=price_cents,
        duree_heures=duree,
        tva=tva,
        start_date=start,
        end_date=start + datetime.timedelta(days=days),
    )


def draft(titulaire, session, *, info=True, employment_status=None):
    """A draft; with ``info``, its « Mes informations » validated (the titulaire's situation
    for this dossier: ``employment_status``, by default his account's, or salarié)."""
    dossier = services.dossier_create(titulaire=titulaire, session=session)
    if info:
        dossier = services.dossier_save_info(
            dossier=dossier,
            titulaire=titulaire,
            professional={**PROFESSIONAL, "employment_status": employment_status or titulaire.employment_status or "salarie"},
            personal={**PERSONAL, "email": titulaire.email},
            save_to_account=False,
        )
    return dossier


def sent(titulaire, session):
    dossier = draft(titulaire, session)
    return services.dossier_transition(dossier_id=dossier.pk, name="send", actor=Actor.TITULAIRE, by=titulaire, payload={"consent": True})


def proposed(titulaire, session, organisme_user, **changes):
    dossier = sent(titulaire, session)
    payload = {
        "price_cents": session.price_cents,
        "start_date": session.start_date,
        "end_date": session.end_date,
        "duree_heures": session.formation.duree_heures,
        **changes,
    }
    return services.dossier_transition(dossier_id=dossier.pk, name="propose", actor=Actor.ORGANISME, by=organisme_user, payload=payload)


def pay_and_accept(dossier, titulaire, *, now=None):
    """The titulaire pays the proposal's reste à payer by card and accepts it (at ``now``)."""
    return services.dossier_pay_and_accept(
        dossier=dossier,
        titulaire=titulaire,
        card=CARD,
        idempotency_key=uuid.uuid4(),
        expected_version=dossier.version,
        expected_reste_cents=dossier.reste_a_payer_cents - dossier.avoir_cents,  # what the card pays
        now=now,
    )


def accepted(titulaire, session, organisme_user, **changes):
    return pay_and_accept(proposed(titulaire, session, organisme_user, **changes), titulaire)


def after_start(dossier, days=1) -> datetime.datetime:
    start = dossier.effective_start_date
    return datetime.datetime.combine(start + datetime.timedelta(days=days), datetime.time(10), tzinfo=deadlines.PARIS)


def in_training(titulaire, session, organisme_user):
    dossier = accepted(titulaire, session, organisme_user)
    return services.dossier_transition(dossier_id=dossier.pk, name="enter", actor=Actor.ORGANISME, by=organisme_user, now=after_start(dossier))


def service_done(titulaire, session, organisme_user, *, exit_reason="complete", rate=100, force_majeure=False):
    dossier = in_training(titulaire, session, organisme_user)
    now = after_start(dossier, days=5)
    payload = {"exit_reason": exit_reason, "completion_rate": rate, "exit_date": dossier.effective_end_date, "force_majeure": force_majeure}
    return services.dossier_transition(
        dossier_id=dossier.pk, name="declare_service_done", actor=Actor.ORGANISME, by=organisme_user, payload=payload, now=now
    )


def _fire(dossier, name, actor, by, payload=None, now=None):
    return services.dossier_transition(dossier_id=dossier.pk, name=name, actor=actor, by=by, payload=payload or {}, now=now)


def dossier_in(status, *, titulaire, session, organisme_user):
    """A dossier brought to ``status`` by the real transitions (the shortest path of the
    table), its deadlines and ledger movements included."""
    from dossiers.workflow import Status

    builders = {
        Status.DRAFT: lambda: draft(titulaire, session),
        Status.SENT: lambda: sent(titulaire, session),
        Status.PROPOSED: lambda: proposed(titulaire, session, organisme_user),
        Status.ACCEPTED: lambda: accepted(titulaire, session, organisme_user),
        Status.IN_TRAINING: lambda: in_training(titulaire, session, organisme_user),
        Status.SERVICE_DONE: lambda: service_done(titulaire, session, organisme_user),
        Status.DELETED: lambda: _fire(draft(titulaire, session), "delete", Actor.TITULAIRE, titulaire),
        Status.REFUSED_BY_ORGANISME: lambda: _fire(
            sent(titulaire, session), "refuse", Actor.ORGANISME, organisme_user, {"reason": "Session complète"}
        ),
        Status.REFUSED_BY_TITULAIRE: lambda: _fire(proposed(titulaire, session, organisme_user), "decline", Actor.TITULAIRE, titulaire),
        Status.CANCELLED_BY_TITULAIRE: lambda: _fire(sent(titulaire, session), "cancel_request", Actor.TITULAIRE, titulaire),
        Status.CANCELLED_BY_ORGANISME: lambda: _fire(
            accepted(titulaire, session, organisme_user), "cancel_by_organisme", Actor.ORGANISME, organisme_user, {"reason": "Formateur absent"}
        ),
    }
    if status == Status.SERVICE_REFUSED:
        dossier = service_done(titulaire, session, organisme_user)
        from accounts.tests.factories import OperatorFactory

        return _fire(dossier, "refuse_service", Actor.OPERATEUR, OperatorFactory(), {"reason": "Aucune feuille d'émargement"})
    if status == Status.CANCELLED_NOT_REALIZED:
        dossier = accepted(titulaire, session, organisme_user)
        return _fire(dossier, "no_show", Actor.ORGANISME, organisme_user, now=after_start(dossier, days=1))
    if status == Status.EXPIRED:
        dossier = sent(titulaire, session)
        return _fire(dossier, "expire", Actor.SYSTEM, None, now=dossier.deadline_at)
    if status == Status.DEBITED:
        dossier = service_done(titulaire, session, organisme_user)
        return _fire(dossier, "validate_service", Actor.SYSTEM, None, now=dossier.deadline_at)
    return builders[Status(status)]()


def card_post(dossier, **extra) -> dict:
    """The acceptance form as a person fills it: the test card, the dossier's version and the
    reste à payer the page showed."""
    return {
        "number": "4242 4242 4242 4242",
        "holder": "Camille Durand",
        "expiry": "12/30",
        "cvc": "987",
        "idempotency_key": str(uuid.uuid4()),
        "version": dossier.version,
        "expected_reste_cents": dossier.reste_a_payer_cents,
        **extra,
    }
