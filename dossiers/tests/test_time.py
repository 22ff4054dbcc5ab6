"""What time drives: expiry in jours ouvrés, service fait validation, reminders — each
idempotent, and the expiry through a real Celery worker on Redis."""

import datetime
import time
import uuid

import pytest
from django.core import mail
from django.utils import timezone

from accounts.tests.factories import TitulaireFactory
from catalogue.tests.factories import OrganismeFactory
from dossiers import deadlines, services
from dossiers.models import Dossier, DossierEvent
from dossiers.tasks import process_deadlines
from dossiers.tests import factories as f
from dossiers.workflow import Status
from financing import services as money
from financing.models import Movement
from notifications.models import Email, Notification

PARIS = deadlines.PARIS


@pytest.fixture
def cast(titulaire_with_rights, organisme_user, session):
    return {"titulaire": titulaire_with_rights, "staff": organisme_user, "session": session}


def sent_on(cast, moment: datetime.datetime) -> Dossier:
    dossier = f.draft(cast["titulaire"], cast["session"])
    return services.dossier_transition(
        dossier_id=dossier.pk, name="send", actor="titulaire", by=cast["titulaire"], payload={"consent": True}, now=moment
    )


@pytest.mark.django_db
def test_unanswered_request_expires_after_two_working_days_over_a_weekend_and_a_holiday(cast, django_capture_on_commit_callbacks, send_queued_emails):
    # Sent on Tuesday 10/11/2026: Wednesday 11 is Armistice, so Thursday 12 and Friday 13 count.
    dossier = sent_on(cast, datetime.datetime(2026, 11, 10, 15, 0, tzinfo=PARIS))
    assert dossier.deadline_at == datetime.datetime(2026, 11, 14, 0, 0, tzinfo=PARIS)
    assert services.expire_overdue(now=datetime.datetime(2026, 11, 13, 23, 59, tzinfo=PARIS)) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert services.expire_overdue(now=datetime.datetime(2026, 11, 16, 8, 0, tzinfo=PARIS)) == 1
    send_queued_emails()
    dossier.refresh_from_db()
    assert dossier.status == Status.EXPIRED and dossier.deadline_at is None
    event = DossierEvent.objects.filter(dossier=dossier).order_by("id").last()
    assert (event.transition, event.from_status, event.to_status, event.actor_role) == ("expire", "sent", "expired", "system")
    subjects = sorted(message.subject for message in mail.outbox)
    assert f"Dossier n° {dossier.numero} annulé sans suite" in subjects and f"Dossier n° {dossier.numero} annulé sans suite" in subjects
    assert Notification.objects.filter(title__contains="annulé sans suite").count() == 2  # titulaire and organisme staff
    # Run again: nothing more happens, nobody is told twice.
    with django_capture_on_commit_callbacks(execute=True):
        assert services.expire_overdue(now=datetime.datetime(2026, 11, 17, 8, 0, tzinfo=PARIS)) == 0
    send_queued_emails()
    assert Notification.objects.filter(title__contains="annulé sans suite").count() == 2


@pytest.mark.django_db
def test_unanswered_proposal_expires_after_four_working_days(cast):
    dossier = f.proposed(cast["titulaire"], cast["session"], cast["staff"])
    services.expire_overdue(now=dossier.deadline_at - datetime.timedelta(seconds=1))
    assert Dossier.objects.get(pk=dossier.pk).status == Status.PROPOSED
    services.expire_overdue(now=dossier.deadline_at)
    assert Dossier.objects.get(pk=dossier.pk).status == Status.EXPIRED
    assert money.balances(money.account_for(cast["titulaire"]))["available"] == 75_000


@pytest.mark.django_db
def test_service_fait_is_validated_after_five_working_days(cast):
    dossier = f.service_done(cast["titulaire"], cast["session"], cast["staff"])
    assert services.validate_due_services(now=dossier.deadline_at - datetime.timedelta(seconds=1)) == 0
    assert services.validate_due_services(now=dossier.deadline_at) == 1
    assert services.validate_due_services(now=dossier.deadline_at) == 0
    dossier.refresh_from_db()
    assert dossier.status == Status.DEBITED
    assert money.balances(money.account_for(cast["titulaire"]))["acquired"] == 0


@pytest.mark.django_db
def test_reminders_are_sent_once(cast, django_capture_on_commit_callbacks, send_queued_emails):
    dossier = sent_on(cast, datetime.datetime(2026, 11, 16, 10, 0, tzinfo=PARIS))  # Monday → deadline end of Wednesday
    with django_capture_on_commit_callbacks(execute=True):
        assert services.send_reminders(now=datetime.datetime(2026, 11, 16, 12, 0, tzinfo=PARIS)) == 0  # two working days left
        assert services.send_reminders(now=datetime.datetime(2026, 11, 17, 12, 0, tzinfo=PARIS)) == 1  # the day before
        assert services.send_reminders(now=datetime.datetime(2026, 11, 18, 9, 0, tzinfo=PARIS)) == 0  # already sent
    send_queued_emails()
    assert [m.subject for m in mail.outbox if m.subject.startswith("Rappel")] == [
        f"Rappel : dossier n° {dossier.numero} à traiter avant le 18/11/2026"
    ]


@pytest.mark.django_db
def test_entry_reminder(cast, django_capture_on_commit_callbacks, send_queued_emails):
    dossier = f.accepted(cast["titulaire"], cast["session"], cast["staff"])
    later = datetime.datetime.combine(deadlines.add_working_days(dossier.effective_start_date, 3), datetime.time(10), tzinfo=PARIS)
    with django_capture_on_commit_callbacks(execute=True):
        services.send_reminders(now=later)
        services.send_reminders(now=later)
    send_queued_emails()
    assert len([m for m in mail.outbox if m.subject.startswith("Entrée en formation à déclarer")]) == 1


@pytest.mark.django_db
def test_periodic_jobs_command(cast, capsys):
    from django.core.management import call_command

    call_command("run_periodic_jobs")
    out = capsys.readouterr().out
    assert "Dossiers : {'expired': 0" in out and "Index de recherche" in out


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_expires_dossiers_through_redis(real_worker):
    organisme = OrganismeFactory(email="inscriptions@of.example")
    titulaire = TitulaireFactory()
    f.give_rights(titulaire, 75_000)
    dossier = f.sent(titulaire, f.session_for(organisme))
    Dossier.objects.filter(pk=dossier.pk).update(deadline_at=timezone.now() - datetime.timedelta(minutes=1))

    process_deadlines.delay()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and Dossier.objects.get(pk=dossier.pk).status != Status.EXPIRED:
        time.sleep(0.2)
    assert Dossier.objects.get(pk=dossier.pk).status == Status.EXPIRED, real_worker.read_text()
    assert "process_deadlines" in real_worker.read_text()


@pytest.mark.django_db
def test_expiry_reads_a_fixed_number_of_queries_and_queues_one_task_per_batch(
    titulaire_with_rights, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    """An organisme without any active staff is not looked up again for every dossier (the
    N+1 of the deadline job's profile), and the e-mails of a batch leave in one task."""
    lonely = OrganismeFactory(email="sans-personnel@of.example")  # no staff account at all

    def overdue(count):
        moment = datetime.datetime(2026, 11, 10, 15, 0, tzinfo=PARIS)
        for _ in range(count):
            titulaire = TitulaireFactory()
            sent_on({"titulaire": titulaire, "session": f.session_for(lonely)}, moment)

    overdue(2)
    now = datetime.datetime(2026, 11, 16, 8, 0, tzinfo=PARIS)
    with django_assert_max_num_queries(40) as few, django_capture_on_commit_callbacks() as callbacks:
        assert services.expire_overdue(now=now) == 2
    assert len(callbacks) == 1  # one task for the 4 e-mails (2 titulaires, 2 to the organisme)
    overdue(9)
    with django_assert_max_num_queries(len(few.captured_queries)), django_capture_on_commit_callbacks() as callbacks:
        assert services.expire_overdue(now=now) == 9
    assert len(callbacks) == 1
    assert Dossier.objects.filter(status=Status.EXPIRED).count() == 11


def _ending_with_all_three_movements(cast, operator):
    """A dossier whose end moves all three kinds of money: abandoned at 60 % (prorata) after a
    conseiller's 100,01 € abondement, of which 40 % goes back (4 000,4 cents → 4 000)."""
    session = f.session_for(cast["session"].formation.organisme)
    dossier = f.sent(cast["titulaire"], session)
    services.abondement_add(dossier=dossier, financeur="france_travail", financeur_name="France Travail", amount_cents=10_001, by=operator)
    payload = {"price_cents": session.price_cents, "start_date": session.start_date, "end_date": session.end_date, "duree_heures": 10}
    dossier = services.dossier_transition(dossier_id=dossier.pk, name="propose", actor="organisme", by=cast["staff"], payload=payload)
    dossier = services.dossier_pay_and_accept(
        dossier=dossier,
        titulaire=cast["titulaire"],
        card=f.CARD,
        idempotency_key=uuid.uuid4(),
        expected_version=dossier.version,
        expected_reste_cents=dossier.reste_a_payer_cents,
    )
    services.dossier_transition(dossier_id=dossier.pk, name="enter", actor="organisme", by=cast["staff"], now=f.after_start(dossier))
    exit_date = dossier.effective_start_date + datetime.timedelta(days=1)
    payload = {"exit_reason": "abandon", "completion_rate": 60, "exit_date": exit_date, "force_majeure": False}
    return services.dossier_transition(
        dossier_id=dossier.pk, name="declare_service_done", actor="organisme", by=cast["staff"], payload=payload, now=f.after_start(dossier, 2)
    )


def _ledger_of(dossier):
    return sorted((m.kind, m.amount_cents, m.label.replace(dossier.numero, "N")) for m in Movement.objects.filter(dossier=dossier))


@pytest.mark.django_db
def test_the_set_based_validation_writes_what_an_operator_validation_writes(cast, operator, send_queued_emails, django_capture_on_commit_callbacks):
    account = money.account_for(cast["titulaire"])
    money._append(account, "alimentation", 200_000, "Alimentation du compte 2022", year=2022)  # room for two dossiers
    by_job, by_operator = (_ending_with_all_three_movements(cast, operator) for _ in range(2))
    services.dossier_transition(dossier_id=by_operator.pk, name="validate_service", actor="operateur", by=operator)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.validate_due_services(now=by_job.deadline_at) == 1
    assert services.validate_due_services(now=by_job.deadline_at) == 0  # run twice: nothing more
    send_queued_emails()
    by_job.refresh_from_db()
    by_operator.refresh_from_db()
    assert _ledger_of(by_job) == _ledger_of(by_operator)
    amounts = {(kind, label.split(" (")[0]): amount for kind, amount, label in _ledger_of(by_job)}
    assert amounts[("abondement", "Abondement rendu : financeurs du dossier")] == -4_000
    assert amounts[("debit", "Droits débités")] == -by_job.consumed_cents
    for field in ("status", "locked_cents", "consumed_cents", "version"):
        assert getattr(by_job, field) == getattr(by_operator, field), field
    assert by_job.status == Status.DEBITED and by_job.events.order_by("id").last().transition == "validate_service"
    assert any(by_job.numero in m.subject and "débités" in m.subject for m in mail.outbox)


@pytest.mark.django_db(transaction=True)
def test_the_validation_job_skips_a_dossier_someone_is_acting_on(titulaire_with_rights, organisme_user, session):
    import threading

    from django.db import connection, transaction

    first = f.service_done(titulaire_with_rights, session, organisme_user)
    second = f.service_done(titulaire_with_rights, f.session_for(session.formation.organisme), organisme_user)
    due = max(first.deadline_at, second.deadline_at)
    held, release = threading.Event(), threading.Event()

    def someone_acting_on_first():
        try:
            with transaction.atomic():
                Dossier.objects.select_for_update().get(pk=first.pk)
                held.set()
                release.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=someone_acting_on_first)
    thread.start()
    try:
        assert held.wait(30)
        assert services.validate_due_services(now=due) == 1  # the held dossier waits
        assert Dossier.objects.get(pk=first.pk).status == Status.SERVICE_DONE
        assert Dossier.objects.get(pk=second.pk).status == Status.DEBITED
    finally:
        release.set()
        thread.join(30)
    assert services.validate_due_services(now=due) == 1  # the next run takes it
    assert Dossier.objects.get(pk=first.pk).status == Status.DEBITED
    assert money.balances(money.account_for(titulaire_with_rights))["locked"] == 0


@pytest.mark.django_db
def test_reminders_due_at_once_are_written_in_bounded_rounds(titulaire_with_rights, monkeypatch):
    from dossiers import notifications

    monkeypatch.setattr(notifications, "CHUNK", 2)
    organisme = OrganismeFactory()
    moment = datetime.datetime(2026, 11, 16, 10, 0, tzinfo=PARIS)  # Monday → last day to answer: Wednesday
    dossiers = [sent_on({"titulaire": TitulaireFactory(), "session": f.session_for(organisme)}, moment) for _ in range(5)]
    assert services.send_reminders(now=datetime.datetime(2026, 11, 17, 12, 0, tzinfo=PARIS)) == 5
    assert services.send_reminders(now=datetime.datetime(2026, 11, 17, 13, 0, tzinfo=PARIS)) == 0
    reminded = set(Email.objects.filter(subject__startswith="Rappel").values_list("subject", flat=True))
    assert {f"Rappel : dossier n° {d.numero} à traiter avant le 18/11/2026" for d in dossiers} == reminded


@pytest.mark.django_db
@pytest.mark.parametrize("free", [True, False])
def test_notices_written_by_the_database_read_as_a_full_render(free, titulaire_with_rights, organisme_user, session):
    """The deadline jobs' notices are built in SQL (``notify_many``); every (event, audience)
    must read exactly as the per-dossier Python render (``notify_transition``) writes it."""
    from dossiers.notifications import _KNOWN, EMAIL_TEMPLATE, _render, notify_many
    from notifications.services import render_message

    titulaire_with_rights.first_name, titulaire_with_rights.usage_name = "Zoë", "O'Brien & Cie"
    titulaire_with_rights.save()
    session.formation.intitule = 'Évaluation d\'Anglais "B2" <oral> & écrit 100 %'
    session.formation.save()
    organisme_user.organisme.raison_sociale = "L'Atelier & Cie"
    organisme_user.organisme.save()
    dossier = f.sent(titulaire_with_rights, session)
    Dossier.objects.filter(pk=dossier.pk).update(
        deadline_at=datetime.datetime(2026, 11, 19, 0, 0, tzinfo=PARIS),  # midnight: the day before
        retractation_until=datetime.datetime(2026, 12, 1, 18, 30, tzinfo=PARIS),
        refusal_reason="Session complète\nà revoir",
        completion_rate=60,
        locked_cents=123_456_789,
        consumed_cents=0 if free else 45_005,
    )
    dossier = Dossier.objects.select_related("titulaire", "organisme", "formation").get(pk=dossier.pk)
    bodies = []
    for key, audience in sorted(_KNOWN):
        Notification.objects.all().delete()
        Email.objects.all().delete()
        assert notify_many([(dossier.pk, "t")], key, (audience,)) == 1, (key, audience)
        subject, message, url = _render(dossier, key, audience)
        staff = [titulaire_with_rights] if audience == "titulaire" else [organisme_user]
        written = list(Notification.objects.values_list("user_id", "title", "body", "url"))
        assert written == [(user.pk, subject, message, url) for user in staff], (key, audience)
        mail_subject, mail_body = render_message(EMAIL_TEMPLATE, {"subject": subject, "message": message, "url": url})
        address = titulaire_with_rights.email if audience == "titulaire" else organisme_user.organisme.email
        assert list(Email.objects.values_list("to", "subject", "body_text")) == [(address, mail_subject, mail_body)], (key, audience)
        assert notify_many([(dossier.pk, "t")], key, (audience,)) == 0  # run twice: nothing new
        bodies.append(message)
    # The fields the SQL formats itself were really exercised: euros with grouped thousands,
    # a midnight deadline read as the day before, a full name with its usage name.
    assert any("1\u202f234\u202f567,89\u00a0€" in body for body in bodies)
    assert any("18/11/2026" in body for body in bodies)
    assert any("Zoë O'Brien & Cie" in body for body in bodies)
