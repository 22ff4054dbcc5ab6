import datetime
import threading
import uuid

import pytest
from django.db import connection
from django.utils import timezone

from accounts.tests.factories import OrganismeStaffFactory, TitulaireFactory
from catalogue.tests.factories import OrganismeFactory
from dossiers import services
from dossiers.models import Dossier, DossierEvent
from dossiers.money import consumed_share
from dossiers.tests import factories as f
from dossiers.workflow import TRANSITIONS, Actor, DossierError, Status, TransitionNotAllowed
from financing import payments
from financing import services as money
from financing.models import Avoir, Movement, MovementKind, Payment, Refund
from notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(organisme, titulaire_with_rights, organisme_user, other_organisme_user, other_titulaire, operator, session):
    """The root cast (conftest.py): 750 € of rights for an 870 € training, as in the seed."""
    return {
        "organisme": organisme,
        "titulaire": titulaire_with_rights,
        "staff": organisme_user,
        "other_staff": other_organisme_user,
        "other_titulaire": other_titulaire,
        "operator": operator,
        "session": session,
    }


def build(cast, state):
    t, s, staff = cast["titulaire"], cast["session"], cast["staff"]
    return {
        Status.DRAFT: lambda: f.draft(t, s),
        Status.SENT: lambda: f.sent(t, s),
        Status.PROPOSED: lambda: f.proposed(t, s, staff),
        Status.ACCEPTED: lambda: f.accepted(t, s, staff),
        Status.IN_TRAINING: lambda: f.in_training(t, s, staff),
        Status.SERVICE_DONE: lambda: f.service_done(t, s, staff),
    }[state]()


def user_for(cast, actor):
    return {Actor.TITULAIRE: cast["titulaire"], Actor.ORGANISME: cast["staff"], Actor.SYSTEM: None, Actor.OPERATEUR: cast["operator"]}[actor]


# --- The table --------------------------------------------------------------------------------


def test_every_state_is_reachable_from_draft():
    reached, frontier = {Status.DRAFT}, [Status.DRAFT]
    while frontier:
        state = frontier.pop()
        for transition in TRANSITIONS.values():
            if state in transition.sources and transition.target not in reached:
                reached.add(transition.target)
                frontier.append(transition.target)
    assert reached == set(Status)


OPEN_STATES = [Status.DRAFT, Status.SENT, Status.PROPOSED, Status.ACCEPTED, Status.IN_TRAINING, Status.SERVICE_DONE]


@pytest.mark.parametrize("state", OPEN_STATES)
def test_forbidden_transitions_change_nothing(cast, state):
    """Every (transition, actor) the table does not allow from this state is refused,
    and neither the state, the history nor the ledger moves."""
    dossier = build(cast, state)
    for name, transition in TRANSITIONS.items():
        for actor in Actor:
            if state in transition.sources and actor in transition.actors:
                continue
            before = (Dossier.objects.get(pk=dossier.pk).status, DossierEvent.objects.count(), Movement.objects.count())
            with pytest.raises(TransitionNotAllowed):
                services.dossier_transition(dossier_id=dossier.pk, name=name, actor=actor, by=user_for(cast, actor), payload={"reason": "x"})
            assert (Dossier.objects.get(pk=dossier.pk).status, DossierEvent.objects.count(), Movement.objects.count()) == before, (state, name, actor)


@pytest.mark.parametrize(
    "state, name, actor, user_key",
    [
        (Status.DRAFT, "send", Actor.TITULAIRE, "other_titulaire"),
        (Status.SENT, "propose", Actor.ORGANISME, "other_staff"),
        (Status.SENT, "refuse", Actor.ORGANISME, "titulaire"),
        (Status.PROPOSED, "decline", Actor.TITULAIRE, "other_titulaire"),
        (Status.ACCEPTED, "enter", Actor.ORGANISME, "other_staff"),
        (Status.SERVICE_DONE, "validate_service", Actor.OPERATEUR, "titulaire"),
    ],
)
def test_the_right_role_of_the_wrong_person_is_refused(cast, state, name, actor, user_key):
    dossier = build(cast, state)
    with pytest.raises(TransitionNotAllowed):
        services.dossier_transition(dossier_id=dossier.pk, name=name, actor=actor, by=cast[user_key], payload={"reason": "x", "consent": True})
    assert Dossier.objects.get(pk=dossier.pk).status == state


def test_stale_version_is_refused(cast):
    dossier = build(cast, Status.SENT)
    with pytest.raises(TransitionNotAllowed, match="changé entre-temps"):
        services.dossier_transition(
            dossier_id=dossier.pk, name="cancel_request", actor=Actor.TITULAIRE, by=cast["titulaire"], expected_version=dossier.version - 1
        )


# --- Each allowed transition, its guard and its effect --------------------------------------


def events(dossier):
    return list(DossierEvent.objects.filter(dossier=dossier).values_list("transition", "from_status", "to_status", "actor_role"))


def test_send_the_seed_financing(cast):
    dossier = f.sent(cast["titulaire"], cast["session"])
    assert dossier.status == Status.SENT and len(dossier.numero) == 10 and dossier.numero.isdigit()
    assert (dossier.droits_cents, dossier.reste_a_payer_cents) == (75_000, 12_000)
    assert dossier.deadline_transition == "expire" and dossier.deadline_at > timezone.now()
    assert events(dossier)[-1] == ("send", "draft", "sent", "titulaire")
    assert money.balances(money.account_for(cast["titulaire"]))["locked"] == 0  # nothing blocked yet


def test_send_needs_validated_information_and_consent(cast):
    dossier = f.draft(cast["titulaire"], cast["session"], info=False)
    with pytest.raises(DossierError, match="Validez d'abord vos informations"):
        services.dossier_transition(dossier_id=dossier.pk, name="send", actor=Actor.TITULAIRE, by=cast["titulaire"], payload={"consent": True})
    dossier = f.draft(cast["titulaire"], cast["session"])
    with pytest.raises(DossierError, match="Cochez la case"):
        services.dossier_transition(dossier_id=dossier.pk, name="send", actor=Actor.TITULAIRE, by=cast["titulaire"], payload={})
    assert Dossier.objects.get(pk=dossier.pk).status == Status.DRAFT


def test_send_refused_when_the_financing_changed_since_the_page(cast):
    dossier = f.draft(cast["titulaire"], cast["session"])
    with pytest.raises(DossierError, match="financement a changé"):
        services.dossier_transition(
            dossier_id=dossier.pk,
            name="send",
            actor=Actor.TITULAIRE,
            by=cast["titulaire"],
            payload={"consent": True, "expected_reste_a_payer_cents": 0},
        )


def test_propose_may_change_price_dates_duration_and_recomputes_the_split(cast):
    start = f.start_in_working_days(25)
    dossier = f.proposed(
        cast["titulaire"],
        cast["session"],
        cast["staff"],
        price_cents=100_000,
        start_date=start,
        end_date=start + datetime.timedelta(days=9),
        duree_heures=14,
    )
    assert dossier.status == Status.PROPOSED
    assert (dossier.droits_cents, dossier.reste_a_payer_cents) == (75_000, 25_000)
    assert [what for what, _, _ in dossier.proposal_changes] == ["Prix", "Date de début", "Date de fin", "Durée"]
    assert dossier.deadline_transition == "expire"


def test_propose_refuses_a_start_sooner_than_11_working_days(cast):
    dossier = f.sent(cast["titulaire"], cast["session"])
    soon = f.start_in_working_days(10)
    payload = {"price_cents": 87_000, "start_date": soon, "end_date": soon + datetime.timedelta(days=3), "duree_heures": 10}
    with pytest.raises(DossierError, match="11 jours ouvrés"):
        services.dossier_transition(dossier_id=dossier.pk, name="propose", actor=Actor.ORGANISME, by=cast["staff"], payload=payload)
    assert Dossier.objects.get(pk=dossier.pk).status == Status.SENT


def test_refuse_needs_a_reason(cast):
    dossier = f.sent(cast["titulaire"], cast["session"])
    with pytest.raises(DossierError, match="motif"):
        services.dossier_transition(dossier_id=dossier.pk, name="refuse", actor=Actor.ORGANISME, by=cast["staff"], payload={"reason": " "})
    refused = services.dossier_transition(
        dossier_id=dossier.pk, name="refuse", actor=Actor.ORGANISME, by=cast["staff"], payload={"reason": "Session complète"}
    )
    assert refused.status == Status.REFUSED_BY_ORGANISME and refused.refusal_reason == "Session complète" and refused.deadline_at is None


def test_accept_pays_the_reste_and_locks_the_rights(cast):
    dossier = f.accepted(cast["titulaire"], cast["session"], cast["staff"])
    assert dossier.status == Status.ACCEPTED and dossier.locked_cents == 75_000
    assert dossier.payment.status == Payment.Status.SUCCEEDED and dossier.payment.amount_cents == 12_000
    assert money.balances(money.account_for(cast["titulaire"])) == {"acquired": 75_000, "locked": 75_000, "available": 0}
    assert dossier.retractation_until > timezone.now()


def test_a_backdated_acceptance_dates_its_payment_and_its_rights_lock_at_the_moment_given(cast):
    """A service called with the moment of its step (the demo's dossiers, a retried call)
    dates everything it writes then, not at the time of the call."""
    accepted_at = timezone.now() - datetime.timedelta(days=3)
    dossier = f.proposed(cast["titulaire"], cast["session"], cast["staff"])
    accepted = f.pay_and_accept(dossier, cast["titulaire"], now=accepted_at)
    lock = Movement.objects.get(dossier=accepted, kind=MovementKind.BLOCAGE)
    assert lock.created_at == accepted_at and accepted.accepted_at == accepted_at
    assert accepted.payment.paid_at == accepted_at and accepted.payment.created_at == accepted_at
    assert accepted.events.get(transition="accept").created_at == accepted_at
    # its in-app notices too (the organisme's team is told of the acceptance)
    event = accepted.events.get(transition="accept")
    notices = [n for n in Notification.objects.filter(dedup_key__startswith=f"dossier:{accepted.pk}:") if n.dedup_key.split(":")[3] == str(event.pk)]
    assert notices and {notice.created_at for notice in notices} == {accepted_at}


def test_a_backdated_creation_comes_first_in_the_history(cast):
    created_at = timezone.now() - datetime.timedelta(days=5)
    dossier = services.dossier_create(titulaire=cast["titulaire"], session=cast["session"], now=created_at)
    assert dossier.created_at == created_at
    assert dossier.events.get(transition="create").created_at == created_at


def test_accept_without_payment_when_rights_cover_everything(cast):
    titulaire = cast["titulaire"]
    titulaire.employment_status = "demandeur_emploi"  # no participation forfaitaire
    titulaire.save()
    dossier = f.proposed(titulaire, cast["session"], cast["staff"], price_cents=70_000)
    assert (dossier.droits_cents, dossier.reste_a_payer_cents) == (70_000, 0)
    accepted = services.dossier_pay_and_accept(
        dossier=dossier, titulaire=titulaire, card=None, idempotency_key=uuid.uuid4(), expected_version=dossier.version, expected_reste_cents=0
    )
    assert accepted.status == Status.ACCEPTED and accepted.payment is None and not Payment.objects.exists()
    assert money.balances(money.account_for(titulaire)) == {"acquired": 75_000, "locked": 70_000, "available": 5_000}


def test_accept_is_refused_without_the_payment(cast):
    dossier = f.proposed(cast["titulaire"], cast["session"], cast["staff"])
    with pytest.raises(DossierError, match="reste à payer doit être réglé"):
        services.dossier_transition(dossier_id=dossier.pk, name="accept", actor=Actor.TITULAIRE, by=cast["titulaire"], payload={})
    assert Dossier.objects.get(pk=dossier.pk).status == Status.PROPOSED


def test_declined_card_changes_nothing(cast):
    dossier = f.proposed(cast["titulaire"], cast["session"], cast["staff"])
    declined = f.payments.Card(number="4000000000000002", expiry_month=12, expiry_year=2099, cvc="987")
    with pytest.raises(DossierError, match="refusé par votre banque"):
        services.dossier_pay_and_accept(
            dossier=dossier,
            titulaire=cast["titulaire"],
            card=declined,
            idempotency_key=uuid.uuid4(),
            expected_version=dossier.version,
            expected_reste_cents=12_000,
        )
    assert Dossier.objects.get(pk=dossier.pk).status == Status.PROPOSED
    assert money.balances(money.account_for(cast["titulaire"]))["locked"] == 0


def test_payment_is_refunded_when_the_rights_vanished_meanwhile(cast, monkeypatch):
    dossier = f.proposed(cast["titulaire"], cast["session"], cast["staff"])
    original = services.dossier_transition

    def spend_first(**kwargs):
        # Between the payment and the acceptance, the rights are spent elsewhere.
        money.rights_lock(account=money.account_for(cast["titulaire"]), amount_cents=75_000, label="ailleurs", reference="X")
        return original(**kwargs)

    monkeypatch.setattr(services, "dossier_transition", spend_first)
    with pytest.raises(DossierError, match="ne couvrent plus"):
        services.dossier_pay_and_accept(
            dossier=dossier,
            titulaire=cast["titulaire"],
            card=f.CARD,
            idempotency_key=uuid.uuid4(),
            expected_version=dossier.version,
            expected_reste_cents=12_000,
        )
    assert Payment.objects.get().status == Payment.Status.REFUNDED
    assert Dossier.objects.get(pk=dossier.pk).status == Status.PROPOSED


def test_accept_after_the_deadline_is_refused(cast):
    dossier = f.proposed(cast["titulaire"], cast["session"], cast["staff"])
    Dossier.objects.filter(pk=dossier.pk).update(deadline_at=timezone.now() - datetime.timedelta(minutes=1))
    with pytest.raises(DossierError, match="délai"):
        services.dossier_pay_and_accept(
            dossier=dossier,
            titulaire=cast["titulaire"],
            card=f.CARD,
            idempotency_key=uuid.uuid4(),
            expected_version=dossier.version,
            expected_reste_cents=12_000,
        )
    assert not Payment.objects.exists()


def test_titulaire_cancel_within_retractation_is_free(cast):
    dossier = f.accepted(cast["titulaire"], cast["session"], cast["staff"])
    cancelled = services.dossier_transition(
        dossier_id=dossier.pk, name="cancel", actor=Actor.TITULAIRE, by=cast["titulaire"], payload={"reason": "Changement de projet"}
    )
    assert cancelled.status == Status.CANCELLED_BY_TITULAIRE
    assert money.balances(money.account_for(cast["titulaire"])) == {"acquired": 75_000, "locked": 0, "available": 75_000}
    refund = Refund.objects.get()  # the card money is owed back, tracked until it is made
    assert (refund.amount_cents, refund.status, refund.due_date) == (12_000, "pending", timezone.localdate() + datetime.timedelta(days=30))
    assert Payment.objects.get().status == Payment.Status.SUCCEEDED
    assert payments.refunds_process() == 1 and payments.refunds_process() == 0
    refund.refresh_from_db()
    assert refund.status == "done" and Payment.objects.get().status == Payment.Status.REFUNDED


def test_late_titulaire_cancel_loses_the_rights(cast):
    dossier = f.accepted(cast["titulaire"], cast["session"], cast["staff"])
    # After the rétractation window, 5 working days before the start.
    Dossier.objects.filter(pk=dossier.pk).update(retractation_until=timezone.now() - datetime.timedelta(days=1))
    now = datetime.datetime.combine(f.deadlines.subtract_working_days(dossier.effective_start_date, 5), datetime.time(10), tzinfo=f.deadlines.PARIS)
    cancelled = services.dossier_transition(dossier_id=dossier.pk, name="cancel", actor=Actor.TITULAIRE, by=cast["titulaire"], payload={}, now=now)
    assert cancelled.consumed_cents == 75_000
    assert money.balances(money.account_for(cast["titulaire"])) == {"acquired": 0, "locked": 0, "available": 0}
    assert Payment.objects.get().status == Payment.Status.SUCCEEDED  # the card money is kept…
    avoir = Avoir.objects.get()  # …as the titulaire's avoir
    assert (avoir.user, avoir.dossier_id, avoir.amount_cents, avoir.remaining_cents) == (cast["titulaire"], dossier.pk, 12_000, 12_000)
    assert payments.avoirs_available(cast["titulaire"]) == 12_000 and not Refund.objects.exists()
    # The organisme may bill an indemnity of 5 % of the order (870 €).
    assert (cancelled.billing_state, cancelled.billable_cents) == ("to_bill", 4_350)


def test_late_cancel_for_force_majeure_is_free(cast):
    dossier = f.accepted(cast["titulaire"], cast["session"], cast["staff"])
    Dossier.objects.filter(pk=dossier.pk).update(retractation_until=timezone.now() - datetime.timedelta(days=1))
    now = datetime.datetime.combine(f.deadlines.subtract_working_days(dossier.effective_start_date, 2), datetime.time(10), tzinfo=f.deadlines.PARIS)
    services.dossier_transition(
        dossier_id=dossier.pk, name="cancel", actor=Actor.TITULAIRE, by=cast["titulaire"], payload={"force_majeure": True}, now=now
    )
    assert money.balances(money.account_for(cast["titulaire"]))["available"] == 75_000


def test_titulaire_cannot_cancel_once_started(cast):
    dossier = f.accepted(cast["titulaire"], cast["session"], cast["staff"])
    with pytest.raises(DossierError, match="a commencé"):
        services.dossier_transition(
            dossier_id=dossier.pk, name="cancel", actor=Actor.TITULAIRE, by=cast["titulaire"], payload={}, now=f.after_start(dossier)
        )


def test_organisme_cancel_gives_everything_back(cast):
    dossier = f.accepted(cast["titulaire"], cast["session"], cast["staff"])
    services.dossier_transition(
        dossier_id=dossier.pk, name="cancel_by_organisme", actor=Actor.ORGANISME, by=cast["staff"], payload={"reason": "Formateur absent"}
    )
    assert money.balances(money.account_for(cast["titulaire"])) == {"acquired": 75_000, "locked": 0, "available": 75_000}
    assert Refund.objects.get().amount_cents == 12_000 and not Avoir.objects.exists()


def test_no_show_loses_the_rights_keeps_the_card_money_as_an_avoir_and_lets_the_organisme_bill_5_percent(cast):
    dossier = f.accepted(cast["titulaire"], cast["session"], cast["staff"])
    with pytest.raises(DossierError, match="premier jour"):
        services.dossier_transition(dossier_id=dossier.pk, name="no_show", actor=Actor.ORGANISME, by=cast["staff"])
    absent = services.dossier_transition(
        dossier_id=dossier.pk, name="no_show", actor=Actor.ORGANISME, by=cast["staff"], now=f.after_start(dossier, days=2)
    )
    assert absent.status == Status.CANCELLED_NOT_REALIZED and absent.consumed_cents == 75_000 and absent.locked_cents == 0
    assert money.balances(money.account_for(cast["titulaire"])) == {"acquired": 0, "locked": 0, "available": 0}
    assert Avoir.objects.get().amount_cents == 12_000
    assert (absent.billing_state, absent.billable_cents) == ("to_bill", 4_350)
    assert Notification.objects.filter(user=cast["titulaire"], title=f"Dossier n° {absent.numero} : formation non réalisée").exists()


def test_entry_only_from_the_first_day(cast):
    dossier = f.accepted(cast["titulaire"], cast["session"], cast["staff"])
    with pytest.raises(DossierError, match="premier jour"):
        services.dossier_transition(dossier_id=dossier.pk, name="enter", actor=Actor.ORGANISME, by=cast["staff"])
    entered = services.dossier_transition(
        dossier_id=dossier.pk, name="enter", actor=Actor.ORGANISME, by=cast["staff"], now=f.after_start(dossier, days=0)
    )
    assert entered.status == Status.IN_TRAINING


def test_service_done_then_validation_debits_the_rights(cast):
    dossier = f.service_done(cast["titulaire"], cast["session"], cast["staff"])
    assert dossier.status == Status.SERVICE_DONE and dossier.consumed_cents == 75_000
    assert dossier.deadline_transition == "validate_service"
    with pytest.raises(TransitionNotAllowed):  # the system waits for the deadline
        services.dossier_transition(dossier_id=dossier.pk, name="validate_service", actor=Actor.SYSTEM)
    debited = services.dossier_transition(dossier_id=dossier.pk, name="validate_service", actor=Actor.OPERATEUR, by=cast["operator"])
    assert debited.status == Status.DEBITED
    account = money.account_for(cast["titulaire"])
    assert money.balances(account) == {"acquired": 0, "locked": 0, "available": 0}
    assert Movement.objects.filter(account=account, kind="debit").get().amount_cents == -75_000


@pytest.mark.parametrize(
    "exit_reason, rate, force_majeure, share",
    [
        ("complete", 100, False, "1"),
        ("abandon", 10, False, "0.25"),  # under 25 %: 25 % of the order
        ("abandon", 50, False, "0.5"),  # prorata
        ("abandon", 85, False, "1"),  # from 80 %: everything
        ("abandon", 10, True, "0.1"),  # force majeure: prorata
        ("interruption_report", 40, False, "0.4"),
        ("interruption_sans_report", 40, False, "0"),
    ],
)
def test_consumed_share(exit_reason, rate, force_majeure, share):
    from decimal import Decimal

    assert consumed_share(exit_reason, rate, force_majeure) == Decimal(share)


def test_prorated_debit_and_abondement_share_back(cast):
    services.abondement_add(
        dossier=f.sent(cast["titulaire"], cast["session"]), financeur="employeur", financeur_name="Acme", amount_cents=10_000, by=cast["operator"]
    )
    dossier = Dossier.objects.get()
    staff = cast["staff"]
    proposal = {"price_cents": 87_000, "start_date": cast["session"].start_date, "end_date": cast["session"].end_date, "duree_heures": 10}
    dossier = services.dossier_transition(dossier_id=dossier.pk, name="propose", actor=Actor.ORGANISME, by=staff, payload=proposal)
    assert (dossier.abondements_cents, dossier.droits_cents, dossier.participation_cents, dossier.reste_a_payer_cents) == (10_000, 75_000, 0, 2_000)
    dossier = services.dossier_pay_and_accept(
        dossier=dossier,
        titulaire=cast["titulaire"],
        card=f.CARD,
        idempotency_key=uuid.uuid4(),
        expected_version=dossier.version,
        expected_reste_cents=2_000,
    )
    assert dossier.locked_cents == 85_000
    dossier = services.dossier_transition(dossier_id=dossier.pk, name="enter", actor=Actor.ORGANISME, by=staff, now=f.after_start(dossier))
    payload = {"exit_reason": "abandon", "completion_rate": 50, "exit_date": dossier.effective_end_date, "force_majeure": False}
    dossier = services.dossier_transition(
        dossier_id=dossier.pk, name="declare_service_done", actor=Actor.ORGANISME, by=staff, payload=payload, now=f.after_start(dossier, 5)
    )
    assert dossier.consumed_cents == 42_500
    services.dossier_transition(dossier_id=dossier.pk, name="validate_service", actor=Actor.OPERATEUR, by=cast["operator"])
    totals = money.balances(money.account_for(cast["titulaire"]))
    # 850 € blocked, 425 € consumed; the employer gets half its 100 € back; 375 € of rights remain.
    assert totals == {"acquired": 75_000 + 10_000 - 42_500 - 5_000, "locked": 0, "available": 37_500}


def test_delete_draft_hides_it(cast):
    dossier = f.draft(cast["titulaire"], cast["session"])
    services.dossier_transition(dossier_id=dossier.pk, name="delete", actor=Actor.TITULAIRE, by=cast["titulaire"])
    assert not Dossier.objects.for_titulaire(cast["titulaire"]).exists()
    # A new dossier for the same session can be made.
    assert f.draft(cast["titulaire"], cast["session"]).status == Status.DRAFT


def test_one_open_dossier_per_session(cast):
    first = f.draft(cast["titulaire"], cast["session"])
    assert services.dossier_create(titulaire=cast["titulaire"], session=cast["session"]) == first


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_transitions_cannot_both_win():
    organisme = OrganismeFactory()
    titulaire, staff = TitulaireFactory(), OrganismeStaffFactory(organisme=organisme)
    f.give_rights(titulaire, 75_000)
    dossier = f.sent(titulaire, f.session_for(organisme))
    barrier = threading.Barrier(2)
    outcomes = []

    def run(name, actor, by, payload):
        try:
            barrier.wait(timeout=30)
            services.dossier_transition(dossier_id=dossier.pk, name=name, actor=actor, by=by, payload=payload, expected_version=dossier.version)
            outcomes.append(name)
        except (TransitionNotAllowed, DossierError):
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=("cancel_request", Actor.TITULAIRE, titulaire, {})),
        threading.Thread(target=run, args=("refuse", Actor.ORGANISME, staff, {"reason": "Session complète"})),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes.count("refused") == 1
    assert DossierEvent.objects.filter(dossier_id=dossier.pk).exclude(transition__in=["create", "send"]).count() == 1


def test_an_avoir_pays_the_next_reste_a_payer_before_the_card_and_comes_back_on_a_free_cancellation(cast):
    titulaire = cast["titulaire"]
    late = f.accepted(titulaire, cast["session"], cast["staff"])  # 870 €: 750 € of rights, 120 € by card
    Dossier.objects.filter(pk=late.pk).update(retractation_until=timezone.now() - datetime.timedelta(days=1))
    now = datetime.datetime.combine(f.deadlines.subtract_working_days(late.effective_start_date, 5), datetime.time(10), tzinfo=f.deadlines.PARIS)
    services.dossier_transition(dossier_id=late.pk, name="cancel", actor=Actor.TITULAIRE, by=titulaire, payload={}, now=now)
    assert payments.avoirs_available(titulaire) == 12_000

    money._append(money.account_for(titulaire), "alimentation", 80_000, "Alimentation 2024", year=2024)  # 800 € of rights
    proposal = f.proposed(titulaire, f.session_for(cast["organisme"]), cast["staff"])
    # 870 € less 800 € leaves the participation forfaitaire (103,20 €): the avoir pays it whole.
    assert (proposal.reste_a_payer_cents, proposal.avoir_cents) == (10_320, 10_320)
    accepted = services.dossier_pay_and_accept(
        dossier=proposal, titulaire=titulaire, card=None, idempotency_key=uuid.uuid4(), expected_version=proposal.version, expected_reste_cents=0
    )
    assert accepted.status == Status.ACCEPTED and accepted.payment_id is None  # nothing by card
    assert payments.avoirs_available(titulaire) == 1_680  # 120 € − 103,20 €
    assert Avoir.objects.get().used_cents == 10_320

    third = f.proposed(titulaire, f.session_for(cast["organisme"], price_cents=20_000), cast["staff"])
    # 200 €: 33,20 € of rights left, 16,80 € of avoir, 150 € by card.
    assert (third.reste_a_payer_cents, third.avoir_cents) == (16_680, 1_680)
    third = services.dossier_pay_and_accept(
        dossier=third, titulaire=titulaire, card=f.CARD, idempotency_key=uuid.uuid4(), expected_version=third.version, expected_reste_cents=15_000
    )
    assert third.payment.amount_cents == 15_000 and payments.avoirs_available(titulaire) == 0

    services.dossier_transition(dossier_id=accepted.pk, name="cancel", actor=Actor.TITULAIRE, by=titulaire, payload={"reason": "Changement"})
    assert payments.avoirs_available(titulaire) == 10_320  # the avoir it used comes back


def test_an_avoir_spent_meanwhile_stops_the_acceptance(cast):
    titulaire = cast["titulaire"]
    first = f.accepted(titulaire, cast["session"], cast["staff"])
    services.dossier_transition(dossier_id=first.pk, name="no_show", actor=Actor.ORGANISME, by=cast["staff"], now=f.after_start(first, days=1))
    proposal = f.proposed(titulaire, f.session_for(cast["organisme"], price_cents=5_000), cast["staff"])
    assert proposal.avoir_cents == 5_000
    Avoir.objects.update(used_cents=12_000)  # spent by another dossier in the meantime
    with pytest.raises(DossierError, match="avoir a changé|financement a changé"):
        services.dossier_pay_and_accept(
            dossier=proposal, titulaire=titulaire, card=None, idempotency_key=uuid.uuid4(), expected_version=proposal.version, expected_reste_cents=0
        )
    proposal.refresh_from_db()
    assert proposal.status == Status.PROPOSED
