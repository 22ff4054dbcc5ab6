"""The organisme's money loop: what becomes billable (table and amounts), invoices (numbers,
totals, PDF, immutability, credit notes), payment batches (pain.001) and overdue alerts."""

import datetime
import io
import threading

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from pypdf import PdfReader
from sepaxml.validation import try_valid_xml

from accounts.tests.factories import TitulaireFactory
from billing import services
from billing.models import Invoice, InvoiceCounter, InvoiceLine, PaymentBatch
from dossiers import billing
from dossiers.models import Dossier
from dossiers.states import BillingState, TransitionNotAllowed
from dossiers.tests import factories as f
from dossiers.workflow import Actor
from notifications.models import Email, Notification

from .conftest import finished

B = BillingState


def pdf_text(invoice: Invoice) -> str:
    with invoice.pdf.open("rb") as handle:
        text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(handle.read())).pages)
    return " ".join(text.split())  # table cells wrap their lines


# --- What is billable ------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("exit_reason", "rate", "state", "billable"),
    [
        ("complete", 100, B.TO_BILL, 87_000),
        ("abandon", 10, B.TO_BILL, 21_750),  # under 25 % done: 25 % of the order
        ("abandon", 60, B.TO_BILL, 52_200),  # between 25 and 80 %: the prorata
        ("abandon", 85, B.TO_BILL, 87_000),  # from 80 %: everything
        ("interruption_report", 40, B.TO_BILL, 34_800),
        ("interruption_sans_report", 40, B.NOT_BILLABLE, 0),
    ],
)
def test_validated_service_makes_the_prorata_of_the_order_billable(organisme_user, session, exit_reason, rate, state, billable):
    dossier = finished(organisme_user, session, exit_reason=exit_reason, rate=rate)
    assert (dossier.billing_state, dossier.billable_cents) == (state, billable)


@pytest.mark.django_db
def test_the_deadline_job_makes_the_same_balance_billable_as_an_operator(organisme_user, session, operator):
    from dossiers import services as dossier_services

    by_job = finished(organisme_user, session, exit_reason="abandon", rate=60, validate=False)
    by_operator = finished(organisme_user, session, exit_reason="abandon", rate=60, validate=False)
    by_operator = f._fire(by_operator, "validate_service", Actor.OPERATEUR, operator)
    assert dossier_services.validate_due_services(now=by_job.deadline_at) == 1
    by_job.refresh_from_db()
    assert (by_job.billing_state, by_job.billable_cents) == (B.TO_BILL, 52_200)
    assert (by_operator.billing_state, by_operator.billable_cents) == (by_job.billing_state, by_job.billable_cents)


def _long_session_in_training(organisme, organisme_user, price_cents=400_000):
    session = f.session_for(organisme, price_cents=price_cents, days=120)
    titulaire = TitulaireFactory()
    f.give_rights(titulaire, 500_000)
    return f.in_training(titulaire, session, organisme_user)


def _declare_and_validate(dossier, organisme_user, *, rate=100, exit_reason="complete"):
    now = f.after_start(dossier, days=30)
    payload = {"exit_reason": exit_reason, "completion_rate": rate, "exit_date": timezone.localdate(now), "force_majeure": False}
    dossier = f._fire(dossier, "declare_service_done", Actor.ORGANISME, organisme_user, payload, now=now)
    return f._fire(dossier, "validate_service", Actor.SYSTEM, None, now=dossier.deadline_at)


@pytest.mark.django_db
def test_a_session_over_three_months_gives_an_acompte_of_25_percent_at_entry_then_the_balance(organisme, organisme_user, bank):
    dossier = _long_session_in_training(organisme, organisme_user)
    assert (dossier.billing_state, dossier.billable_cents, dossier.acompte_cents) == (B.ACOMPTE_TO_BILL, 100_000, 100_000)
    acompte = services.invoice_issue(organisme=organisme, dossier_ids=[dossier.pk], by=organisme_user)
    assert acompte.lines.get().nature == InvoiceLine.Nature.ACOMPTE
    dossier.refresh_from_db()
    assert dossier.billing_state == B.ACOMPTE_BILLED
    dossier = _declare_and_validate(dossier, organisme_user)
    assert (dossier.billing_state, dossier.billable_cents) == (B.TO_BILL, 300_000)  # 4 000 € less the 1 000 € acompte


@pytest.mark.django_db
def test_an_acompte_never_billed_is_dropped_and_the_balance_covers_everything(organisme, organisme_user):
    dossier = _declare_and_validate(_long_session_in_training(organisme, organisme_user), organisme_user)
    assert (dossier.billing_state, dossier.billable_cents, dossier.acompte_cents) == (B.TO_BILL, 400_000, 0)


@pytest.mark.django_db
def test_a_short_session_has_no_acompte(organisme_user, session):
    titulaire = TitulaireFactory()
    f.give_rights(titulaire, 100_000)
    dossier = f.in_training(titulaire, session, organisme_user)
    assert (dossier.billing_state, dossier.billable_cents) == (B.NOT_BILLABLE, 0)


def test_billing_states_move_only_along_the_table():
    dossier = Dossier(billing_state=B.NOT_BILLABLE)
    with pytest.raises(TransitionNotAllowed, match="Facturé"):
        billing.move(dossier, "billed")
    assert dossier.billing_state == B.NOT_BILLABLE
    dossier.billing_state = B.TO_BILL
    billing.move(dossier, "billed")
    billing.move(dossier, "paid")
    assert dossier.billing_state == B.PAID
    with pytest.raises(TransitionNotAllowed):
        billing.move(dossier, "credited")


# --- Invoices ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_invoice_bills_the_chosen_dossiers_with_ht_tva_ttc_and_a_pdf(organisme, organisme_user, bank):
    exempt = finished(organisme_user, f.session_for(organisme, price_cents=87_000))
    taxed = finished(organisme_user, f.session_for(organisme, price_cents=120_000, tva=2000))
    invoice = services.invoice_issue(organisme=organisme, dossier_ids=[exempt.pk, taxed.pk], by=organisme_user)
    assert (invoice.number, invoice.sequence, invoice.kind, invoice.status) == ("000001", 1, "facture", "issued")
    assert invoice.due_date == timezone.localdate() + datetime.timedelta(days=30)
    lines = {line.dossier_id: line for line in invoice.lines.all()}
    assert (lines[exempt.pk].ht_cents, lines[exempt.pk].tva_cents, lines[exempt.pk].ttc_cents) == (87_000, 0, 87_000)
    assert (lines[taxed.pk].ht_cents, lines[taxed.pk].tva_cents, lines[taxed.pk].ttc_cents) == (100_000, 20_000, 120_000)
    assert (invoice.total_ht_cents, invoice.total_tva_cents, invoice.total_ttc_cents) == (187_000, 20_000, 207_000)
    for dossier in (exempt, taxed):
        dossier.refresh_from_db()
        assert (dossier.billing_state, dossier.billable_cents) == (B.BILLED, 0)
    text = pdf_text(invoice)
    assert "Facture n° 000001" in text
    assert "2 070,00 €" in text and "SIRET " + organisme.siret in text
    assert "FR7630004000010000123456789" in text
    assert "article 261-4-4° a du code général des impôts" in text
    second = services.invoice_issue(organisme=organisme, dossier_ids=[finished(organisme_user, f.session_for(organisme)).pk], by=organisme_user)
    assert second.number == "000002"


@pytest.mark.django_db
def test_vat_at_5_5_percent_is_split_from_the_ttc_price_half_up(organisme, organisme_user, bank):
    dossier = finished(organisme_user, f.session_for(organisme, price_cents=99_999, tva=550))
    line = services.invoice_issue(organisme=organisme, dossier_ids=[dossier.pk], by=organisme_user).lines.get()
    assert (line.ht_cents, line.tva_cents) == (94_786, 5_213)  # 999,99 / 1,055 = 947,857… → 947,86


@pytest.mark.django_db
def test_a_refused_issue_writes_nothing_and_keeps_the_number(organisme, organisme_user, bank, other_organisme, other_organisme_user):
    mine = finished(organisme_user, f.session_for(organisme))
    services.invoice_issue(organisme=organisme, dossier_ids=[mine.pk], by=organisme_user)
    theirs = finished(other_organisme_user, f.session_for(other_organisme))
    fresh = finished(organisme_user, f.session_for(organisme))
    for ids, message in [([], "Cochez au moins"), ([mine.pk], "n'est plus à facturer"), ([fresh.pk, theirs.pk], "n'est plus à facturer")]:
        with pytest.raises(services.BillingError, match=message):
            services.invoice_issue(organisme=organisme, dossier_ids=ids, by=organisme_user)
    assert InvoiceCounter.objects.get(organisme=organisme).last_number == 1
    assert Invoice.objects.filter(organisme=organisme).count() == 1
    fresh.refresh_from_db()
    assert fresh.billing_state == B.TO_BILL
    assert services.invoice_issue(organisme=organisme, dossier_ids=[fresh.pk], by=organisme_user).number == "000002"


@pytest.mark.django_db
def test_no_invoice_without_bank_details(organisme, organisme_user):
    dossier = finished(organisme_user, f.session_for(organisme))
    with pytest.raises(services.BillingError, match="coordonnées bancaires"):
        services.invoice_issue(organisme=organisme, dossier_ids=[dossier.pk], by=organisme_user)
    assert not InvoiceCounter.objects.filter(organisme=organisme, last_number__gt=0).exists()


@pytest.mark.django_db
def test_an_issued_invoice_and_its_lines_cannot_change_or_go(organisme, organisme_user, bank):
    invoice = services.invoice_issue(organisme=organisme, dossier_ids=[finished(organisme_user, f.session_for(organisme)).pk], by=organisme_user)
    attempts = [
        lambda: Invoice.objects.filter(pk=invoice.pk).update(total_ht_cents=1, total_ttc_cents=1),
        lambda: Invoice.objects.filter(pk=invoice.pk).update(number="000099"),
        lambda: Invoice.objects.filter(pk=invoice.pk).update(due_date=invoice.due_date + datetime.timedelta(days=60)),
        lambda: connection.cursor().execute("DELETE FROM billing_invoice WHERE id = %s", [invoice.pk]),  # past the ORM's PROTECT
        lambda: InvoiceLine.objects.filter(invoice=invoice).update(label="autre chose"),
        lambda: InvoiceLine.objects.filter(invoice=invoice).delete(),
    ]
    for attempt in attempts:
        with pytest.raises(DatabaseError, match="ne se (modifie|supprime) pas"), transaction.atomic():
            attempt()
    invoice.refresh_from_db()
    assert (invoice.number, invoice.total_ttc_cents) == ("000001", 87_000)
    assert Invoice.objects.filter(pk=invoice.pk).update(status=Invoice.Status.IN_BATCH) == 1  # its payment progress may move


@pytest.mark.django_db
def test_a_credit_note_cancels_an_invoice_and_its_dossiers_can_be_billed_again(organisme, organisme_user, bank):
    dossier = finished(organisme_user, f.session_for(organisme, price_cents=120_000, tva=2000))
    invoice = services.invoice_issue(organisme=organisme, dossier_ids=[dossier.pk], by=organisme_user)
    with pytest.raises(services.BillingError, match="motif"):
        services.invoice_credit(invoice=invoice, reason="  ", by=organisme_user)
    credit = services.invoice_credit(invoice=invoice, reason="Mauvais taux de TVA", by=organisme_user)
    assert (credit.kind, credit.number, credit.credited_invoice_id, credit.total_ttc_cents) == ("avoir", "000002", invoice.pk, 120_000)
    assert (credit.total_ht_cents, credit.total_tva_cents) == (invoice.total_ht_cents, invoice.total_tva_cents)
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.CREDITED
    dossier.refresh_from_db()
    assert (dossier.billing_state, dossier.billable_cents) == (B.TO_BILL, 120_000)
    assert "Avoir n° 000002" in pdf_text(credit) and "Annule la facture n° 000001" in pdf_text(credit)
    with pytest.raises(services.BillingError, match="ne peut plus être annulée"):
        services.invoice_credit(invoice=invoice, reason="Encore", by=organisme_user)
    again = services.invoice_issue(organisme=organisme, dossier_ids=[dossier.pk], by=organisme_user)
    assert again.number == "000003"


@pytest.mark.django_db
def test_an_invoice_in_payment_cannot_be_credited(organisme, organisme_user, bank):
    invoice = services.invoice_issue(organisme=organisme, dossier_ids=[finished(organisme_user, f.session_for(organisme)).pk], by=organisme_user)
    services.batch_prepare()
    invoice.refresh_from_db()
    with pytest.raises(services.BillingError, match="En paiement"):
        services.invoice_credit(invoice=invoice, reason="Erreur", by=organisme_user)


# --- Bank details ---------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("iban", "bic", "message"),
    [
        ("FR76 3000 4000 0100 0012 3456 788", "BNPAFRPPXXX", "IBAN n'est pas valide"),
        ("FR76", "BNPAFRPPXXX", "IBAN n'est pas valide"),
        ("FR76 3000 4000 0100 0012 3456 789", "BNP", "BIC n'est pas valide"),
        ("FR76 3000 4000 0100 0012 3456 789", "DEUTDEFFXXX", "pays de l'IBAN"),
    ],
)
def test_bank_details_are_checked(organisme, organisme_user, iban, bic, message):
    with pytest.raises(services.BillingError, match=message):
        services.bank_account_save(organisme=organisme, holder="CP-FORMATION", iban=iban, bic=bic, by=organisme_user)


# --- Payment batches ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_payment_batch_pays_the_invoices_due_by_a_valid_pain001_and_tells_each_organisme(
    organisme, organisme_user, bank, other_organisme, other_organisme_user, other_bank, operator
):
    mine = services.invoice_issue(organisme=organisme, dossier_ids=[finished(organisme_user, f.session_for(organisme)).pk], by=organisme_user)
    theirs_dossier = finished(other_organisme_user, f.session_for(other_organisme, price_cents=50_000))
    theirs = services.invoice_issue(organisme=other_organisme, dossier_ids=[theirs_dossier.pk], by=other_organisme_user)
    batch = services.batch_prepare(by=operator)
    assert (batch.count, batch.total_cents, batch.status) == (2, 137_000, PaymentBatch.Status.PREPARED)
    assert batch.execution_date > timezone.localdate() and batch.execution_date.weekday() < 5
    try_valid_xml(batch.pain001.encode(), "pain.001.001.03")
    assert "<CtrlSum>1370.00</CtrlSum>" in batch.pain001 and '<InstdAmt Ccy="EUR">870.00</InstdAmt>' in batch.pain001
    assert "FR7630004000010000123456789" in batch.pain001 and "FR7640031000010000000000133" in batch.pain001
    assert services.batch_prepare() is None  # nothing twice
    assert set(Invoice.objects.values_list("status", flat=True)) == {"in_batch"}

    assert services.batch_execute(batch=batch, by=operator) == 2
    for invoice in (mine, theirs):
        invoice.refresh_from_db()
        assert (invoice.status, invoice.payment_reference) == ("paid", batch.reference)
    theirs_dossier.refresh_from_db()
    assert theirs_dossier.billing_state == B.PAID
    assert Notification.objects.filter(user=organisme_user, title="Votre facture n° 000001 est payée").exists()
    assert Email.objects.filter(to=organisme.email, subject="Votre facture n° 000001 est payée", body_text__contains="870,00").exists()
    assert not Notification.objects.filter(user=organisme_user, body__contains="500,00").exists()  # the other organisme's payment
    with pytest.raises(services.BillingError, match="déjà exécuté"):
        services.batch_execute(batch=batch, by=operator)


@pytest.mark.django_db
def test_an_acompte_paid_after_the_balance_was_billed_leaves_the_balance_unpaid(organisme, organisme_user, bank, operator):
    dossier = _long_session_in_training(organisme, organisme_user)
    services.invoice_issue(organisme=organisme, dossier_ids=[dossier.pk], by=organisme_user)
    dossier = _declare_and_validate(dossier, organisme_user)
    services.invoice_issue(organisme=organisme, dossier_ids=[dossier.pk], by=organisme_user)
    batch = services.batch_prepare(invoice_ids=list(Invoice.objects.filter(sequence=1).values_list("pk", flat=True)))
    services.batch_execute(batch=batch, by=operator)
    dossier.refresh_from_db()
    assert dossier.billing_state == B.BILLED
    services.batch_execute(batch=services.batch_prepare(), by=operator)
    dossier.refresh_from_db()
    assert dossier.billing_state == B.PAID


@pytest.mark.django_db
def test_invoices_past_30_days_are_flagged_to_operators(organisme, organisme_user, bank, operator):
    issued = timezone.now() - datetime.timedelta(days=31)
    late = services.invoice_issue(
        organisme=organisme, dossier_ids=[finished(organisme_user, f.session_for(organisme)).pk], by=organisme_user, now=issued
    )
    services.invoice_issue(organisme=organisme, dossier_ids=[finished(organisme_user, f.session_for(organisme)).pk], by=organisme_user)
    assert list(services.overdue()) == [late]
    assert late.is_overdue
    assert services.alert_overdue() == 1
    assert services.alert_overdue() == 1  # counted again, but each operator told once a day
    assert Notification.objects.filter(user=operator, title="1 facture d'organisme en retard de paiement").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_issues_get_consecutive_numbers_with_no_gap_or_duplicate(organisme, organisme_user, bank):
    """Ten people bill at once: three of them roll back after taking a number, two race for
    the same dossier. The committed invoices are numbered 1…n with no gap and no duplicate."""
    dossiers = [finished(organisme_user, f.session_for(organisme)) for _ in range(9)]
    plan = [(index, dossiers[index].pk) for index in range(8)] + [(8, dossiers[8].pk), (9, dossiers[8].pk)]
    barrier = threading.Barrier(len(plan))
    outcomes, errors = {}, []

    class Rollback(Exception):
        pass

    def issue(index, dossier_id):
        try:
            barrier.wait(timeout=30)
            with transaction.atomic():
                invoice = services.invoice_issue(organisme=organisme, dossier_ids=[dossier_id], by=organisme_user)
                if index in (0, 3, 6):
                    raise Rollback
            outcomes[index] = invoice.number
        except Rollback:
            outcomes[index] = "rolled back"
        except services.BillingError:
            outcomes[index] = "refused"
        except Exception as error:  # pragma: no cover - reported by the assertion below
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=issue, args=item) for item in plan]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert [outcomes[8], outcomes[9]].count("refused") == 1  # the same dossier is billed once
    numbers = sorted(Invoice.objects.filter(organisme=organisme).values_list("number", flat=True))
    assert numbers == [f"{n:06d}" for n in range(1, 7)]  # 5 distinct dossiers + one of the race, none rolled back
    assert sorted(number for number in outcomes.values() if number not in ("rolled back", "refused")) == numbers
    assert InvoiceCounter.objects.get(organisme=organisme).last_number == 6
    billed = Dossier.objects.filter(billing_state=B.BILLED).count()
    assert billed == 6 and Dossier.objects.filter(pk__in=[dossiers[i].pk for i in (0, 3, 6)], billing_state=B.TO_BILL).count() == 3


@pytest.mark.django_db
def test_a_no_show_is_billed_as_an_indemnity_of_5_percent(organisme, organisme_user, bank, titulaire_with_rights, session):
    dossier = f.accepted(titulaire_with_rights, session, organisme_user)
    dossier = f._fire(dossier, "no_show", Actor.ORGANISME, organisme_user, now=f.after_start(dossier, days=1))
    invoice = services.invoice_issue(organisme=organisme, dossier_ids=[dossier.pk], by=organisme_user)
    line = invoice.lines.get()
    assert (line.nature, line.ttc_cents, invoice.total_ttc_cents) == (InvoiceLine.Nature.INDEMNITE, 4_350, 4_350)
    assert "Indemnité d'annulation (5 %)" in pdf_text(invoice)
    dossier.refresh_from_db()
    assert dossier.billing_state == B.BILLED
