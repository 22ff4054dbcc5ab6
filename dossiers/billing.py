"""What the organisme may bill for a dossier: its billing sub-state (EDOF's « Pas facturable »
→ « Acompte à facturer » → … → « Payé ») and the amounts, in one declared table.

``move`` is the only code that writes ``Dossier.billing_state``: the dossier's transitions
call ``after_entry`` / ``after_service`` (inside their transaction), the invoices and payment
batches of ``billing.services`` call ``move`` for what they bill, credit and pay. Amounts are
TTC in cents; the VAT split is the invoice's business.

Rules (docs/regles.md §6.1, §6.3, §7): an acompte of 25 % of the order once the entry is
declared, for a session of more than 3 months; after the service fait is validated, the
order's price times the share the prorata rules give, less an acompte already billed.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.dispatch import Signal

from .money import cents, consumed_share
from .states import BillingState, TransitionNotAllowed

B = BillingState
ACOMPTE_RATE = Decimal("0.25")
INDEMNITY_RATE = Decimal("0.05")  # late cancellation or no-show (docs/regles.md §6.3)
ACOMPTE_MIN_MONTHS = 3


@dataclass(frozen=True)
class BillingMove:
    name: str
    sources: frozenset
    target: BillingState
    label: str


_TABLE = [
    BillingMove("acompte_due", frozenset({B.NOT_BILLABLE}), B.ACOMPTE_TO_BILL, "Acompte dû (entrée déclarée, session de plus de 3 mois)"),
    BillingMove("acompte_billed", frozenset({B.ACOMPTE_TO_BILL}), B.ACOMPTE_BILLED, "Acompte facturé"),
    BillingMove("acompte_credited", frozenset({B.ACOMPTE_BILLED}), B.ACOMPTE_TO_BILL, "Facture d'acompte annulée par un avoir"),
    BillingMove("acompte_paid", frozenset({B.ACOMPTE_BILLED}), B.ACOMPTE_PAID, "Acompte payé"),
    BillingMove(
        "service_validated",
        frozenset({B.NOT_BILLABLE, B.ACOMPTE_TO_BILL, B.ACOMPTE_BILLED, B.ACOMPTE_PAID}),
        B.TO_BILL,
        "Service fait validé : solde à facturer",
    ),
    BillingMove(
        "nothing_due",
        frozenset({B.NOT_BILLABLE, B.ACOMPTE_TO_BILL, B.ACOMPTE_BILLED, B.ACOMPTE_PAID}),
        B.NOT_BILLABLE,
        "Rien à facturer",
    ),
    BillingMove("indemnity_due", frozenset({B.NOT_BILLABLE}), B.TO_BILL, "Annulation tardive ou absence : indemnité de 5 % à facturer"),
    BillingMove("billed", frozenset({B.TO_BILL}), B.BILLED, "Facturé"),
    BillingMove("credited", frozenset({B.BILLED}), B.TO_BILL, "Facture annulée par un avoir"),
    BillingMove("paid", frozenset({B.BILLED}), B.PAID, "Payé"),
]
MOVES: dict[str, BillingMove] = {move.name: move for move in _TABLE}

# What an invoice bills in each state, and the move billing it makes.
BILLABLE = {B.ACOMPTE_TO_BILL: "acompte_billed", B.TO_BILL: "billed"}
# Per nature of an invoice line: the move its payment makes, and its credit note's.
PAID = {"acompte": "acompte_paid", "solde": "paid", "indemnite": "paid"}
CREDITED = {"acompte": "acompte_credited", "solde": "credited", "indemnite": "credited"}


def to_bill(dossiers):
    """The dossiers (a queryset) with something to bill now."""
    return dossiers.filter(billing_state__in=list(BILLABLE)).exclude(billable_cents=0)


def may(dossier, name: str) -> bool:
    return dossier.billing_state in MOVES[name].sources


# Sent after each billing move, in its transaction (the webhooks' outbox listens).
moved = Signal()


def move(dossier, name: str) -> None:
    """Fire the billing move ``name`` on ``dossier`` (saved by the caller)."""
    billing_move = MOVES[name]
    if dossier.billing_state not in billing_move.sources:
        raise TransitionNotAllowed(f"Facturation : « {billing_move.label} » impossible, le dossier est « {B(dossier.billing_state).label} ».")
    dossier.billing_state = billing_move.target
    moved.send(sender=type(dossier), dossier=dossier, name=name)


def acompte_applies(start: datetime.date | None, end: datetime.date | None) -> bool:
    return bool(start and end and end > start + relativedelta(months=ACOMPTE_MIN_MONTHS))


def after_entry(dossier) -> None:
    """Entry declared: a session of more than 3 months makes an acompte of 25 % billable."""
    if acompte_applies(dossier.effective_start_date, dossier.effective_end_date):
        dossier.acompte_cents = cents(dossier.effective_price_cents * ACOMPTE_RATE)
        dossier.billable_cents = dossier.acompte_cents
        move(dossier, "acompte_due")


def service_amount(dossier) -> int:
    """What the organisme earns in all (TTC): the order's price times the prorata share."""
    share = consumed_share(dossier.exit_reason, dossier.completion_rate or 0, dossier.force_majeure)
    return cents(dossier.effective_price_cents * share)


def after_service(dossier) -> None:
    """Service fait validated: the balance becomes billable (an acompte not yet billed is
    dropped: the balance then covers everything)."""
    if dossier.billing_state == B.ACOMPTE_TO_BILL:
        dossier.acompte_cents = 0
    already = dossier.acompte_cents if dossier.billing_state in (B.ACOMPTE_BILLED, B.ACOMPTE_PAID) else 0
    balance = service_amount(dossier) - already
    dossier.billable_cents = max(balance, 0)
    move(dossier, "service_validated" if balance > 0 else "nothing_due")


def after_late_cancel(dossier) -> None:
    """Cancelled late by the titulaire or not attended (no force majeure): the organisme may
    bill an indemnity of 5 % of the order."""
    dossier.billable_cents = cents(dossier.effective_price_cents * INDEMNITY_RATE)
    if dossier.billable_cents:
        move(dossier, "indemnity_due")


# The fields ``after_entry`` / ``after_service`` read and write (a set-based job loads and
# saves only these).
READS = ("price_cents", "proposed_price_cents", "exit_reason", "completion_rate", "force_majeure", "billing_state", "acompte_cents")
WRITES = ("billing_state", "billable_cents", "acompte_cents")
