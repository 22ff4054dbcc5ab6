"""The organisme's billing and the operators' payment runs, each step one transaction.

- ``bank_account_save``: IBAN/BIC checked (schwifty), the change in the audit trail.
- ``invoice_issue``: the chosen dossiers locked, the organisme's counter locked and raised
  (no gap, no duplicate), the invoice, its lines and its PDF written, the dossiers' billing
  states moved by their table (``dossiers.billing``).
- ``invoice_credit``: a credit note (avoir) numbered in the same sequence cancels an invoice
  not yet in payment; its dossiers are billable again.
- ``batch_prepare`` / ``batch_execute``: the invoices due gathered in one payment batch with
  its SEPA credit-transfer file (pain.001, sepaxml, checked against the schema); executed,
  its invoices are paid, their dossiers « Payé », each organisme told.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, Min, Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from cpf_portal.errors import UserFacingError
from cpf_portal.money import split_ttc
from dossiers import billing
from dossiers.models import Dossier
from dossiers.states import BillingState, Status
from equipes.permissions import Right, members_with
from notifications.services import email_queue, notify_from_template

from . import pdf, sepa
from .models import BankAccount, Invoice, InvoiceCounter, InvoiceLine, PaymentBatch
from .signals import invoices_paid

PAYMENT_DAYS = 30  # calendar days from the invoice to its payment (docs/regles.md §7)


class BillingError(UserFacingError):
    """A billing step refused, with the French message shown to the person."""


# --- Bank details -------------------------------------------------------------------------------


# schwifty loads its bank registries on import: imported where bank details are checked, not
# by every web process at start.


def clean_iban(value: str) -> str:
    from schwifty import IBAN
    from schwifty.exceptions import SchwiftyException

    try:
        return IBAN(value).compact
    except SchwiftyException:
        raise BillingError("Cet IBAN n'est pas valide : vérifiez-le sur votre relevé d'identité bancaire.") from None


def clean_bic(value: str, iban: str | None = None) -> str:
    from schwifty import BIC, IBAN
    from schwifty.exceptions import SchwiftyException

    try:
        bic = BIC(value)
    except SchwiftyException:
        raise BillingError("Ce BIC n'est pas valide (8 ou 11 caractères, par exemple BNPAFRPPXXX).") from None
    if iban and bic.country_code != IBAN(iban).country_code:
        raise BillingError("Ce BIC ne correspond pas au pays de l'IBAN.")
    return str(bic)


def bank_account_save(*, organisme, holder: str, iban: str, bic: str, by) -> BankAccount:
    iban = clean_iban(iban)
    bic = clean_bic(bic, iban)
    account, _ = BankAccount.objects.update_or_create(
        organisme=organisme, defaults={"holder": holder.strip(), "iban": iban, "bic": bic, "updated_at": timezone.now(), "updated_by": by}
    )
    return account


# --- Amounts --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    dossier: Dossier
    nature: str
    label: str
    tva_rate: int
    ht_cents: int
    tva_cents: int
    ttc_cents: int


def line_for(dossier: Dossier) -> Line:
    """What billing ``dossier`` now would put on an invoice."""
    if dossier.billing_state == BillingState.ACOMPTE_TO_BILL:
        nature = InvoiceLine.Nature.ACOMPTE
    elif dossier.status in (Status.CANCELLED_BY_TITULAIRE, Status.CANCELLED_NOT_REALIZED):
        nature = InvoiceLine.Nature.INDEMNITE
    else:
        nature = InvoiceLine.Nature.SOLDE
    rate = dossier.session.action.tva
    ht, tva = split_ttc(dossier.billable_cents, rate)
    label = f"Dossier n° {dossier.numero} — {dossier.formation.intitule} — {nature.label}"[:300]
    return Line(dossier, nature, label, rate, ht, tva, dossier.billable_cents)


def billable(organisme):
    """The organisme's dossiers with something to bill now."""
    return billing.to_bill(Dossier.objects.filter(organisme=organisme))


# --- Invoices -------------------------------------------------------------------------------------


def _next_number(organisme) -> int:
    """Raise the organisme's counter under a row lock (held until commit): concurrent issues
    wait for each other, a rolled-back one gives its number back."""
    InvoiceCounter.objects.bulk_create([InvoiceCounter(organisme=organisme)], ignore_conflicts=True)
    counter = InvoiceCounter.objects.select_for_update().get(organisme=organisme)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return counter.last_number


def number_for(sequence: int) -> str:
    return f"{sequence:06d}"


@transaction.atomic
def invoice_issue(*, organisme, dossier_ids, by, now: datetime.datetime | None = None) -> Invoice:
    """One invoice for the chosen dossiers (acomptes and balances may be mixed)."""
    now = now or timezone.now()
    wanted = {int(pk) for pk in dossier_ids}
    if not wanted:
        raise BillingError("Cochez au moins un dossier à facturer.")
    dossiers = list(
        billable(organisme)
        .filter(pk__in=wanted)
        .select_for_update(of=("self",))
        .select_related("formation", "titulaire", "session__action")
        .order_by("numero")
    )
    if len(dossiers) != len(wanted):
        raise BillingError("Un des dossiers choisis n'est plus à facturer (déjà facturé ou modifié) : vérifiez la liste mise à jour.")
    bank = BankAccount.objects.filter(organisme=organisme).first()
    if bank is None:
        raise BillingError("Renseignez d'abord les coordonnées bancaires de l'organisme : elles figurent sur la facture.")
    lines = [line_for(dossier) for dossier in dossiers]
    sequence = _next_number(organisme)
    invoice = Invoice(
        organisme=organisme,
        kind=Invoice.Kind.FACTURE,
        sequence=sequence,
        number=number_for(sequence),
        total_ht_cents=sum(line.ht_cents for line in lines),
        total_tva_cents=sum(line.tva_cents for line in lines),
        total_ttc_cents=sum(line.ttc_cents for line in lines),
        issued_at=now,
        due_date=timezone.localdate(now) + datetime.timedelta(days=PAYMENT_DAYS),
        issued_by=by,
    )
    _store(invoice, lines, bank)
    for dossier in dossiers:
        billing.move(dossier, billing.BILLABLE[dossier.billing_state])
        dossier.billable_cents = 0
    Dossier.objects.bulk_update(dossiers, ["billing_state", "billable_cents"])
    return invoice


def _store(invoice: Invoice, lines: list[Line], bank: BankAccount | None) -> None:
    """The invoice row with its PDF (rendered from the same data), then its lines."""
    invoice.pdf.save(f"{invoice.organisme.siret}-{invoice.number}.pdf", ContentFile(pdf.render(invoice, lines, bank)), save=False)
    invoice.save()
    InvoiceLine.objects.bulk_create(
        [
            InvoiceLine(
                invoice=invoice,
                dossier=line.dossier,
                nature=line.nature,
                label=line.label,
                tva_rate=line.tva_rate,
                ht_cents=line.ht_cents,
                tva_cents=line.tva_cents,
                ttc_cents=line.ttc_cents,
            )
            for line in lines
        ]
    )


@transaction.atomic
def invoice_credit(*, invoice: Invoice, reason: str, by, now: datetime.datetime | None = None) -> Invoice:
    """A credit note cancelling ``invoice`` whole; its dossiers go back to « à facturer »."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise BillingError("Indiquez le motif de l'avoir.")
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.kind != Invoice.Kind.FACTURE or invoice.status != Invoice.Status.ISSUED:
        raise BillingError(f"Cette facture ne peut plus être annulée : elle est « {invoice.get_status_display()} ».")
    source_lines = list(invoice.lines.order_by("id"))
    dossiers = {d.pk: d for d in Dossier.objects.select_for_update().filter(pk__in=[line.dossier_id for line in source_lines])}
    lines = []
    for line in source_lines:
        dossier = dossiers[line.dossier_id]
        if not billing.may(dossier, billing.CREDITED[line.nature]):
            raise BillingError(f"Le dossier n° {dossier.numero} a avancé depuis cette facture : elle ne peut plus être annulée.")
        billing.move(dossier, billing.CREDITED[line.nature])
        dossier.billable_cents = line.ttc_cents
        lines.append(Line(dossier, line.nature, f"Annulation : {line.label}"[:300], line.tva_rate, line.ht_cents, line.tva_cents, line.ttc_cents))
    sequence = _next_number(invoice.organisme)
    credit = Invoice(
        organisme=invoice.organisme,
        kind=Invoice.Kind.AVOIR,
        sequence=sequence,
        number=number_for(sequence),
        credited_invoice=invoice,
        reason=reason,
        total_ht_cents=invoice.total_ht_cents,
        total_tva_cents=invoice.total_tva_cents,
        total_ttc_cents=invoice.total_ttc_cents,
        issued_at=now,
        due_date=timezone.localdate(now),
        issued_by=by,
        status=Invoice.Status.CREDIT_NOTE,
    )
    _store(credit, lines, None)  # a credit note is not paid: no bank details on it
    Dossier.objects.bulk_update(list(dossiers.values()), ["billing_state", "billable_cents"])
    invoice.status = Invoice.Status.CREDITED
    invoice.save(update_fields=["status"])
    return credit


# --- Payment runs (operators) ---------------------------------------------------------------------


def due_for_payment():
    """Issued invoices of organismes with bank details, not yet in a batch."""
    return Invoice.objects.filter(kind=Invoice.Kind.FACTURE, status=Invoice.Status.ISSUED, organisme__bank_account__isnull=False)


def overdue_q(today: datetime.date | None = None) -> Q:
    """Invoices past their 30 days and still unpaid (flagged to operators)."""
    return Q(kind=Invoice.Kind.FACTURE, status__in=[Invoice.Status.ISSUED, Invoice.Status.IN_BATCH], due_date__lt=today or timezone.localdate())


def overdue(today: datetime.date | None = None):
    return Invoice.objects.filter(overdue_q(today))


@transaction.atomic
def batch_prepare(*, by=None, now: datetime.datetime | None = None, invoice_ids=None) -> PaymentBatch | None:
    """Gather the invoices due (or the chosen ones among them) in one batch and write its
    pain.001. None when nothing is due. Invoices another run holds are skipped."""
    now = now or timezone.now()
    invoices = (
        due_for_payment().select_for_update(of=("self",), skip_locked=True).select_related("organisme__bank_account").order_by("issued_at", "id")
    )
    if invoice_ids is not None:
        invoices = invoices.filter(pk__in=invoice_ids)
    invoices = list(invoices)
    if not invoices:
        return None
    execution_date = sepa.next_business_day(timezone.localdate(now))
    reference = f"CPF-{timezone.localtime(now):%Y%m%d-%H%M%S}-{invoices[0].pk}"
    batch = PaymentBatch.objects.create(
        reference=reference[:35],
        execution_date=execution_date,
        total_cents=sum(invoice.total_ttc_cents for invoice in invoices),
        count=len(invoices),
        pain001=sepa.credit_transfer(reference, invoices, execution_date),
        created_at=now,
        created_by=by,
    )
    Invoice.objects.filter(pk__in=[invoice.pk for invoice in invoices]).update(status=Invoice.Status.IN_BATCH, batch=batch)
    return batch


@transaction.atomic
def batch_execute(*, batch: PaymentBatch, by, now: datetime.datetime | None = None) -> int:
    """The bank made the transfers: the invoices are paid, their dossiers « Payé » (or
    « Acompte payé »), each organisme told once. Returns the number of invoices paid."""
    now = now or timezone.now()
    batch = PaymentBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status != PaymentBatch.Status.PREPARED:
        raise BillingError("Ce lot de paiement est déjà exécuté.")
    invoices = list(batch.invoices.select_for_update(of=("self",)).select_related("organisme"))
    lines = list(InvoiceLine.objects.filter(invoice__in=invoices).values_list("dossier_id", "nature"))
    dossiers = {d.pk: d for d in Dossier.objects.select_for_update().filter(pk__in={pk for pk, _ in lines})}
    for dossier_id, nature in lines:
        # An acompte paid after its dossier moved on (balance billed meanwhile) changes nothing.
        if billing.may(dossiers[dossier_id], billing.PAID[nature]):
            billing.move(dossiers[dossier_id], billing.PAID[nature])
    Dossier.objects.bulk_update(list(dossiers.values()), ["billing_state"])
    batch.invoices.update(status=Invoice.Status.PAID, paid_at=now, payment_reference=batch.reference)
    batch.status, batch.executed_at, batch.executed_by = PaymentBatch.Status.EXECUTED, now, by
    batch.save(update_fields=["status", "executed_at", "executed_by"])
    _tell_paid(invoices, batch, now=now)
    invoices_paid.send(sender=Invoice, invoices=invoices)
    return len(invoices)


def _tell_paid(invoices: list[Invoice], batch: PaymentBatch, *, now: datetime.datetime) -> None:
    by_organisme: dict[int, list[Invoice]] = {}
    for invoice in invoices:
        by_organisme.setdefault(invoice.organisme_id, []).append(invoice)
    staff = members_with(Right.FACTURATION_VOIR, by_organisme)
    url = reverse("billing:invoices") + "?status=paid"
    for organisme_id, paid in by_organisme.items():
        context = {
            "numbers": ", ".join(f"n° {invoice.number}" for invoice in paid),
            "count": len(paid),
            "total": sum(invoice.total_ttc_cents for invoice in paid),
            "reference": batch.reference,
            "url": url,
        }
        dedup = f"batch:{batch.pk}:organisme:{organisme_id}"
        for user in staff.get(organisme_id, []):
            notify_from_template(user=user, template="billing/notifications/paid", context=context, url=url, dedup_key=f"{dedup}:{user.pk}", now=now)
        address = paid[0].organisme.email
        if address:
            email_queue(to=address, template="billing/notifications/paid", context=context, dedup_key=f"{dedup}:email")


def operators_to_alert():
    return User.objects.filter(Q(is_staff=True) | Q(role=Role.OPERATEUR), is_active=True)


def alert_overdue(*, today: datetime.date | None = None) -> int:
    """Tell the operators, once a day, how many invoices are past their 30 days."""
    today = today or timezone.localdate()
    late = overdue(today).aggregate(count=Count("pk"), oldest=Min("due_date"))
    if not late["count"]:
        return 0
    context = {"count": late["count"], "oldest": late["oldest"]}
    for user in operators_to_alert():
        notify_from_template(
            user=user,
            template="billing/notifications/overdue",
            context=context,
            url="/admin/billing/invoice/?en_retard=oui",
            dedup_key=f"overdue:{today:%Y%m%d}:{user.pk}",
        )
    return late["count"]
