"""The money of a dossier, in one home: its split until acceptance, then the rights it
holds, releases, forfeits or settles, the abondements it brings and gives back, and the
card money refunded. Each step calls the ledger API of ``financing.services`` with the
dossier, so every movement knows its dossier (``Movement.dossier``).

Called by the transition effects in ``workflow`` (inside ``dossier_transition``'s
transaction, on the locked dossier row); the dossier's fields are set here and saved there.
Rules: docs/regles.md §6.3 (prorata) and §7 (split, participation forfaitaire)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from cpf_portal.money import euros
from financing import payments
from financing import services as ledger

from .models import Dossier
from .states import DossierError, ExitReason

ABONDEMENTS_BACK = ledger.ABONDEMENTS_BACK


# --- The split, until acceptance ------------------------------------------------------------


def split_for(dossier: Dossier, *, today: datetime.date) -> ledger.FinancingSplit:
    """« Mon financement » of the dossier now: its price (proposed or catalogue), the
    titulaire's available rights, its abondements, the participation in force."""
    account = ledger.account_for(dossier.titulaire)
    rows = list(dossier.abondements.values_list("financeur", "amount_cents"))
    certification = dossier.formation.certification
    action_type, code = (certification.type, certification.code) if certification else ("", "")
    return ledger.compute_split(
        price_cents=dossier.effective_price_cents,
        available_cents=ledger.balances(account)["available"],
        abondements_cents=sum(amount for _, amount in rows),
        on_date=today,
        exemption=ledger.participation_exemption(dossier.employment_status, [financeur for financeur, _ in rows]),
        avoirs_cents=payments.avoirs_available(dossier.titulaire),
        cap_cents=ledger.cap_on(today, action_type, code) if action_type else None,
        cap_label=ledger.CAP_LABELS.get(action_type, ""),
    )


SPLIT_FIELDS = ["droits_cents", "abondements_cents", "participation_cents", "reste_a_payer_cents", "avoir_cents", "exemption", "exemption_source"]


def refresh_split(dossier: Dossier, *, today: datetime.date) -> ledger.FinancingSplit:
    """Copy the split of today onto the dossier (saved by the caller)."""
    split = split_for(dossier, today=today)
    dossier.droits_cents = split.droits_cents
    dossier.abondements_cents = split.abondements_cents
    dossier.participation_cents = split.participation_cents
    dossier.reste_a_payer_cents = split.reste_a_payer_cents
    dossier.avoir_cents = split.avoir_cents
    dossier.exemption = split.exemption
    dossier.exemption_source = exemption_source(dossier, split.exemption)
    return split


def exemption_source(dossier: Dossier, exemption: str) -> str:
    """Where the exemption comes from, for the control: the situation the titulaire declared
    (and when), or the abondement that brings it (who added it, when)."""
    if not exemption:
        return ""
    if exemption == ledger.JOBSEEKER:
        if dossier.titulaire_info.get("employment_status") and dossier.info_validated_at:
            return f"Situation « Demandeur d'emploi » déclarée par le titulaire dans son dossier le {timezone.localtime(dossier.info_validated_at):%d/%m/%Y}"
        return "Situation « Demandeur d'emploi » déclarée par le titulaire dans son compte"
    kind = next(financeur for financeur, reason in ledger.EXEMPTING_FINANCEURS.items() if reason == exemption)
    abondement = dossier.abondements.filter(financeur=kind).select_related("added_by").order_by("created_at", "id").first()
    by = abondement.added_by
    who = "un opérateur" if by is None else "le titulaire" if by.pk == dossier.titulaire_id else (by.get_full_name() or by.email)
    name = f" {abondement.financeur_name}" if abondement.financeur_name else ""
    return f"{abondement.get_financeur_display()}{name} : {euros(abondement.amount_cents)}, ajouté par {who} le {timezone.localtime(abondement.created_at):%d/%m/%Y}"


@dataclass(frozen=True)
class AbondementLine:
    label: str
    amount_cents: int
    added_by: str  # « votre conseiller … », « vous », or "" (an operator)


@dataclass(frozen=True)
class FinancingSummary:
    """« Mon financement » of a sent dossier, at any state: the split fixed on the dossier
    (the live one while the titulaire must answer a proposal), its abondements and who added
    them, the rights it holds or consumed, and the card payment (its receipt)."""

    price_cents: int
    droits_cents: int
    abondements_cents: int
    participation_cents: int
    reste_a_payer_cents: int
    avoir_cents: int
    exemption: str
    locked_cents: int
    consumed_cents: int
    payment: object = None
    abondements: list[AbondementLine] = field(default_factory=list)
    cap_note: str = ""

    @property
    def card_cents(self) -> int:
        return max(self.reste_a_payer_cents - self.avoir_cents, 0)


def financing_summary(dossier: Dossier, split: ledger.FinancingSplit | None = None) -> FinancingSummary:
    """The block shown on the titulaire's dossier page after the draft (one query: the
    abondements with who added them). ``split``: the live split, when the page has one."""
    source = split or dossier
    lines = []
    for abondement in dossier.abondements.select_related("added_by").order_by("created_at", "id"):
        by = abondement.added_by
        if by is None:
            who = ""
        elif by.pk == dossier.titulaire_id:
            who = "déclaré par vous"
        elif by.is_conseiller:
            who = f"ajouté par votre conseiller {by.get_full_name()}".rstrip()
        else:
            who = "ajouté par un opérateur"
        label = abondement.get_financeur_display() + (f" ({abondement.financeur_name})" if abondement.financeur_name else "")
        lines.append(AbondementLine(label=label, amount_cents=abondement.amount_cents, added_by=who))
    paid = dossier.payment if dossier.payment_id and dossier.payment.receipt_number else None
    return FinancingSummary(
        price_cents=dossier.effective_price_cents,
        droits_cents=source.droits_cents,
        abondements_cents=source.abondements_cents,
        participation_cents=source.participation_cents,
        reste_a_payer_cents=source.reste_a_payer_cents,
        avoir_cents=source.avoir_cents,
        exemption=source.exemption,
        locked_cents=dossier.locked_cents,
        consumed_cents=dossier.consumed_cents,
        payment=paid,
        abondements=lines,
        cap_note=f"Vos droits peuvent financer au plus {euros(split.cap_cents)} {split.cap_label}." if split and split.capped else "",
    )


# --- From acceptance to the end -----------------------------------------------------------------


def hold(dossier: Dossier, *, by, now: datetime.datetime | None = None) -> None:
    """Acceptance: the abondements join the account, then the rights they and the account
    pay are blocked (refused if they are no longer available). ``now``: the acceptance's
    moment, the date of its movements."""
    account = ledger.account_for(dossier.titulaire)
    for abondement in dossier.abondements.all():
        ledger.abondement_add(
            account=account,
            amount_cents=abondement.amount_cents,
            financeur=abondement.financeur_name or abondement.get_financeur_display(),
            dossier=dossier,
            now=now,
        )
    locked = dossier.droits_cents + dossier.abondements_cents
    if locked:
        try:
            ledger.rights_lock(account=account, amount_cents=locked, dossier=dossier, by=by, now=now)
        except ledger.InsufficientRights as error:
            raise DossierError(str(error)) from None
    dossier.locked_cents = locked
    if dossier.avoir_cents:
        try:
            payments.avoirs_spend(user=dossier.titulaire, amount_cents=dossier.avoir_cents)
        except payments.AvoirChanged as error:
            raise DossierError(str(error)) from None


def release(dossier: Dossier, *, by, refund: bool, now: datetime.datetime | None = None) -> None:
    """Cancelled before the training: the blocked rights come back, the abondements go back
    to their financeurs, the card money back to the titulaire."""
    account = ledger.account_for(dossier.titulaire)
    if dossier.locked_cents:
        ledger.rights_unlock(account=account, amount_cents=dossier.locked_cents, dossier=dossier, by=by, now=now)
    if dossier.abondements_cents:
        ledger.abondement_reverse(account=account, amount_cents=dossier.abondements_cents, financeur=ABONDEMENTS_BACK, dossier=dossier, now=now)
    dossier.locked_cents = 0
    if refund and dossier.payment_id:
        payments.refund_request(payment=dossier.payment, reason=f"Annulation du dossier n° {dossier.numero}", now=now)
    if refund and dossier.avoir_cents:  # the avoirs it used come back
        payments.avoir_give(user=dossier.titulaire, dossier=dossier, amount_cents=dossier.avoir_cents, now=now)


def forfeit(dossier: Dossier, *, by, now: datetime.datetime | None = None) -> None:
    """Late cancellation or no-show without force majeure: every blocked euro is debited
    (lost); the card money becomes the titulaire's avoir, spent on a later dossier."""
    if dossier.payment_id:
        payments.avoir_from_payment(payment=dossier.payment, dossier=dossier, now=now)
    if dossier.avoir_cents:  # the avoirs it used stay the titulaire's too
        payments.avoir_give(user=dossier.titulaire, dossier=dossier, amount_cents=dossier.avoir_cents, now=now)
    if dossier.locked_cents:
        ledger.rights_debit(
            account=ledger.account_for(dossier.titulaire),
            locked_cents=dossier.locked_cents,
            consumed_cents=dossier.locked_cents,
            dossier=dossier,
            by=by,
            now=now,
        )
    dossier.consumed_cents, dossier.locked_cents = dossier.locked_cents, 0


def settlement(dossier: Dossier, account_id: int) -> ledger.Settlement:
    """Service fait validated: the consumed rights are debited, the rest released; the
    unconsumed share of the abondements goes back to the financeurs (prorata, half up)."""
    unconsumed = dossier.locked_cents - dossier.consumed_cents
    back = 0
    if dossier.abondements_cents and unconsumed:
        back = cents(Decimal(dossier.abondements_cents) * unconsumed / dossier.locked_cents)
    return ledger.Settlement(
        account_id=account_id,
        dossier_id=dossier.pk,
        numero=dossier.numero,
        locked_cents=dossier.locked_cents,
        consumed_cents=dossier.consumed_cents,
        abondements_back_cents=back,
    )


def settle(dossier: Dossier, *, by, now: datetime.datetime | None = None) -> None:
    """One dossier's settlement (an operator's validation); the deadline job settles many
    with the same ``settlement`` (``dossiers.services.validate_due_services``)."""
    if dossier.locked_cents:
        ledger.settle_many([settlement(dossier, ledger.account_for(dossier.titulaire).pk)], by=by, now=now)
    dossier.locked_cents = 0


# --- Rules ------------------------------------------------------------------------------------


def consumed_share(exit_reason: str, completion_rate: int, force_majeure: bool) -> Decimal:
    """Share of the blocked rights debited at the end (docs/regles.md §6.3): an abandon costs
    25 % under 25 % done, the prorata between 25 and 80 %, everything from 80 %; force
    majeure or an interruption with postponement: the prorata; no postponement: nothing."""
    rate = Decimal(completion_rate) / 100
    if exit_reason == ExitReason.COMPLETE:
        return Decimal(1)
    if exit_reason == ExitReason.INTERRUPTION_SANS_REPORT:
        return Decimal(0)
    if exit_reason == ExitReason.INTERRUPTION_REPORT or force_majeure:
        return rate
    if rate < Decimal("0.25"):
        return Decimal("0.25")
    if rate < Decimal("0.80"):
        return rate
    return Decimal(1)


def cents(amount: Decimal) -> int:
    """A Decimal number of cents rounded half up to a whole cent."""
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))
