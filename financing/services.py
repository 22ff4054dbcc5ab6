"""Money on the CPF account. Every write locks the account row (select_for_update) inside
one transaction, reads the balances from the ledger, then appends movements: two concurrent
operations on one account are serialised and can never both spend the same euros."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Diploma, EmploymentStatus, User
from cpf_portal.errors import UserFacingError
from cpf_portal.money import euros
from notifications.services import email_queue, notify_from_template

from .models import (
    DIF_MAX_HOURS,
    EUROS_PER_DIF_HOUR,
    CpfAccount,
    DatedRule,
    DifAttestation,
    DifDeclaration,
    FundingCap,
    Movement,
    MovementKind,
    ParticipationForfaitaire,
    YearlyDeclaration,
)


class FinancingError(UserFacingError):
    """A refused money operation; the message is shown to the person."""


class InsufficientRights(FinancingError):
    pass


# --- The account ------------------------------------------------------------------------------


def account_for(user) -> CpfAccount:
    """The titulaire's account, opened on first use."""
    try:
        return user.cpf_account
    except CpfAccount.DoesNotExist:
        pass
    try:
        with transaction.atomic():
            return CpfAccount.objects.create(user=user)
    except IntegrityError:  # opened concurrently
        return CpfAccount.objects.get(user=user)


def balances(account: CpfAccount) -> dict:
    """{"acquired", "locked", "available"} in cents, computed from the ledger."""
    return Movement.objects.filter(account=account).balances()


def available_for(user) -> int:
    """The titulaire's « droits disponibles » in cents, in one aggregate query (0 before the
    account exists: reading never opens it)."""
    return Movement.objects.filter(account__user=user).balances()["available"]


def _locked(account: CpfAccount) -> CpfAccount:
    """The account row, locked until the end of the transaction."""
    return CpfAccount.objects.select_for_update().get(pk=account.pk)


def dossier_reference(numero: str) -> str:
    """The one reference format of every movement made for a dossier (and of its payment)."""
    return f"dossier:{numero}"


def _append(
    account: CpfAccount, kind: str, amount_cents: int, label: str, *, by=None, dossier=None, now: datetime.datetime | None = None, **fields
) -> Movement:
    """``now`` dates the movement when its cause happened earlier (a service called with the
    moment of its step, as the demo's backdated dossiers are)."""
    if now is not None:
        fields["created_at"] = now
    if dossier is not None:
        fields.update(dossier_id=dossier.pk, reference=dossier_reference(dossier.numero))
    movement = Movement(account=account, kind=kind, amount_cents=amount_cents, label=label, created_by=by, **fields)
    movement.full_clean()
    movement.save()
    return movement


def _for(dossier) -> str:
    return f" (dossier n° {dossier.numero})" if dossier is not None else ""


# --- The ledger API: each function one kind of movement, the account row locked --------------
# ``dossier=`` ties the movement to its dossier (column and reference); the dossier's own
# choreography (hold, release, forfeit, settle) lives in ``dossiers.money``.


@transaction.atomic
def correction_add(*, account: CpfAccount, amount_cents: int, reason: str, by) -> Movement:
    """An operator's correction, positive or negative, always with its reason."""
    if not reason.strip():
        raise FinancingError("Une correction doit être motivée.")
    if amount_cents == 0:
        raise FinancingError("Le montant d'une correction ne peut pas être nul.")
    _locked(account)
    return _append(account, MovementKind.CORRECTION, amount_cents, "Correction", reason=reason.strip(), by=by)


@transaction.atomic
def abondement_add(
    *, account: CpfAccount, amount_cents: int, financeur: str, by=None, reference: str = "", dossier=None, now: datetime.datetime | None = None
) -> Movement:
    """Money given on top of the rights (employer, France Travail, région, OPCO…)."""
    if amount_cents <= 0:
        raise FinancingError("Le montant d'un abondement doit être positif.")
    _locked(account)
    return _append(
        account,
        MovementKind.ABONDEMENT,
        amount_cents,
        f"Abondement : {financeur}{_for(dossier)}",
        by=by,
        reference=reference,
        dossier=dossier,
        now=now,
    )


@transaction.atomic
def abondement_reverse(
    *, account: CpfAccount, amount_cents: int, financeur: str, by=None, reference: str = "", dossier=None, now: datetime.datetime | None = None
) -> Movement:
    """Give an abondement back to its financeur (its training did not take place)."""
    _locked(account)
    return _append(
        account,
        MovementKind.ABONDEMENT,
        -amount_cents,
        f"Abondement rendu : {financeur}{_for(dossier)}",
        by=by,
        reference=reference,
        dossier=dossier,
        now=now,
    )


@transaction.atomic
def rights_lock(
    *, account: CpfAccount, amount_cents: int, label: str = "", reference: str = "", by=None, dossier=None, now: datetime.datetime | None = None
) -> Movement:
    """Block rights for an accepted dossier; refused if they are not available. ``now``: the
    moment of the acceptance (the movement's date)."""
    if amount_cents <= 0:
        raise FinancingError("Le montant à bloquer doit être positif.")
    _locked(account)
    available = balances(account)["available"]
    if amount_cents > available:
        raise InsufficientRights(f"Vos droits disponibles ({euros(available)}) ne couvrent plus ce montant ({euros(amount_cents)}).")
    label = label or f"Droits bloqués pour le dossier n° {dossier.numero}"
    return _append(account, MovementKind.BLOCAGE, amount_cents, label, reference=reference, by=by, dossier=dossier, now=now)


@transaction.atomic
def rights_unlock(
    *, account: CpfAccount, amount_cents: int, label: str = "", reference: str = "", by=None, dossier=None, now: datetime.datetime | None = None
) -> Movement:
    """Release rights blocked for a dossier (cancelled before the training)."""
    _locked(account)
    label = label or f"Droits débloqués (dossier n° {dossier.numero} annulé)"
    return _append(account, MovementKind.DEBLOCAGE, -amount_cents, label, reference=reference, by=by, dossier=dossier, now=now)


@transaction.atomic
def rights_debit(
    *,
    account: CpfAccount,
    locked_cents: int,
    consumed_cents: int,
    reference: str = "",
    by=None,
    dossier=None,
    now: datetime.datetime | None = None,
) -> list[Movement]:
    """At the end of a training: release what was blocked and debit what was consumed
    (prorated when the rules say so). Two movements, one transaction."""
    _locked(account)
    if dossier is not None:
        reference = dossier_reference(dossier.numero)
    suffix = _for(dossier) or (f" (dossier n° {reference})" if reference else "")
    movements = _end_movements(
        account_id=account.pk,
        dossier_id=dossier.pk if dossier is not None else None,
        reference=reference,
        suffix=suffix,
        locked_cents=locked_cents,
        consumed_cents=consumed_cents,
        by=by,
        now=now,
    )
    for movement in movements:
        movement.full_clean()
        movement.save()
    return movements


ABONDEMENTS_BACK = "financeurs du dossier"


@dataclass(frozen=True)
class Settlement:
    """The end of one dossier's training in the ledger: its blocked rights released, the
    consumed part debited, the unconsumed share of its abondements given back."""

    account_id: int
    dossier_id: int
    numero: str
    locked_cents: int
    consumed_cents: int
    abondements_back_cents: int = 0


def _end_movements(
    *,
    account_id: int,
    dossier_id: int | None,
    reference: str,
    suffix: str,
    locked_cents: int,
    consumed_cents: int,
    abondements_back_cents: int = 0,
    by=None,
    now: datetime.datetime | None = None,
) -> list[Movement]:
    """The movements that end a training (not saved): blocked rights released, the consumed
    part debited, the unconsumed share of the abondements given back."""
    if not 0 <= consumed_cents <= locked_cents:
        raise FinancingError("Le montant débité ne peut pas dépasser les droits bloqués.")
    common = {"account_id": account_id, "dossier_id": dossier_id, "reference": reference, "created_by": by, "created_at": now or timezone.now()}
    rows = []
    if locked_cents:
        rows.append(Movement(kind=MovementKind.DEBLOCAGE, amount_cents=-locked_cents, label=f"Fin de formation : droits débloqués{suffix}", **common))
    if consumed_cents:
        rows.append(Movement(kind=MovementKind.DEBIT, amount_cents=-consumed_cents, label=f"Droits débités{suffix}", **common))
    if abondements_back_cents:
        label = f"Abondement rendu : {ABONDEMENTS_BACK}{suffix}"
        rows.append(Movement(kind=MovementKind.ABONDEMENT, amount_cents=-abondements_back_cents, label=label, **common))
    return rows


@transaction.atomic
def settle_many(settlements: list[Settlement], *, by=None, now: datetime.datetime | None = None) -> list[Movement]:
    """Settle many dossiers at once (the deadline job as well as one dossier): their accounts
    locked in id order (no deadlock between two batches), every movement in one INSERT. Only
    releases and debits what was blocked: it never spends available rights."""
    account_ids = sorted({settlement.account_id for settlement in settlements})
    list(CpfAccount.objects.select_for_update().filter(pk__in=account_ids).order_by("pk").values_list("pk", flat=True))
    rows = [
        movement
        for settlement in settlements
        for movement in _end_movements(
            account_id=settlement.account_id,
            dossier_id=settlement.dossier_id,
            reference=dossier_reference(settlement.numero),
            suffix=f" (dossier n° {settlement.numero})",
            locked_cents=settlement.locked_cents,
            consumed_cents=settlement.consumed_cents,
            abondements_back_cents=settlement.abondements_back_cents,
            by=by,
            now=now,
        )
    ]
    return Movement.objects.bulk_create(rows)


# --- Yearly credit (« alimentation ») -------------------------------------------------------
# Code du travail L6323-11 and R6323-1 s. (sources ci-alim and capm in docs/regles.md):
# 500 € a year, 5 000 € ceiling; 800 € and 8 000 € without a level-3 qualification (or for a
# worker with RQTH); a salarié working at least half the legal time gets the full amount,
# less than that gets a prorata; independents and artistes-auteurs a prorata of the year.
LEGAL_HOURS_PER_YEAR = Decimal("1607")
YEARLY_CENTS = 50_000
YEARLY_CEILING_CENTS = 500_000
YEARLY_CENTS_LOW_QUALIFICATION = 80_000
YEARLY_CEILING_CENTS_LOW_QUALIFICATION = 800_000


def yearly_amount(*, status: str, hours_worked: Decimal, low_qualification: bool) -> int:
    """Credit earned for one year, before the ceiling, rounded up to the cent."""
    full = YEARLY_CENTS_LOW_QUALIFICATION if low_qualification else YEARLY_CENTS
    hours = max(Decimal(0), Decimal(hours_worked))
    share = min(Decimal(1), hours / LEGAL_HOURS_PER_YEAR)
    if status == YearlyDeclaration.Status.SALARIE and share >= Decimal("0.5"):
        return full
    return int((share * full).to_integral_value(rounding=ROUND_CEILING))


def ceiling_base(account: CpfAccount) -> int:
    """The part of the balance the ceiling applies to: everything but DIF and abondements
    (docs/regles.md §3.3: the ceiling applies to the yearly credit only)."""
    rows = Movement.objects.filter(account=account).exclude(kind__in=[MovementKind.DIF, MovementKind.ABONDEMENT])
    return max(0, rows.balances()["acquired"])


@transaction.atomic
def yearly_credit(
    *,
    account: CpfAccount,
    year: int,
    status: str,
    hours_worked: Decimal,
    low_qualification: bool,
    source: str = YearlyDeclaration.Source.IMPORT,
    credited_at: datetime.datetime | None = None,
) -> YearlyDeclaration | None:
    """Post a year's credit once (None when that year was already credited). ``credited_at``
    dates the movement when it was posted earlier than now (the simulated DSN's credits are
    dated in the first half of the following year, as the real ones)."""
    _locked(account)
    if YearlyDeclaration.objects.filter(account=account, year=year).exists():
        return None
    computed = yearly_amount(status=status, hours_worked=hours_worked, low_qualification=low_qualification)
    ceiling = YEARLY_CEILING_CENTS_LOW_QUALIFICATION if low_qualification else YEARLY_CEILING_CENTS
    credited = max(0, min(computed, ceiling - ceiling_base(account)))
    movement = None
    if credited:
        movement = _append(account, MovementKind.ALIMENTATION, credited, f"Alimentation du compte {year}", year=year, now=credited_at)
    return YearlyDeclaration.objects.create(
        account=account,
        year=year,
        status=status,
        hours_worked=hours_worked,
        low_qualification=low_qualification,
        computed_cents=computed,
        credited_cents=credited,
        movement=movement,
        source=source,
    )


# --- DIF -------------------------------------------------------------------------------------


def dif_deadline() -> datetime.date:
    return settings.CPF_DIF_DEADLINE


def dif_is_open(today: datetime.date | None = None) -> bool:
    """DIF hours can be entered until the deadline included (CPF_DIF_DEADLINE)."""
    return (today or timezone.localdate()) <= dif_deadline()


def dif_euros_cents(hours: int) -> int:
    return hours * EUROS_PER_DIF_HOUR * 100


@dataclass
class AttestationInput:
    employer: str
    hours: Decimal
    issued_on: datetime.date
    file: object  # an uploaded file, already checked
    content_type: str


def dif_hours(situation: str, attestations: list[AttestationInput]) -> Decimal:
    """Hours the attestations give: one employer → its attestation; successive employers
    the same year → only the last attestation (latest date) counts; simultaneous
    employers → the hours add up."""
    if situation == DifDeclaration.Situation.SUCCESSIFS:
        return max(attestations, key=lambda a: a.issued_on).hours
    return sum((a.hours for a in attestations), Decimal(0))


def dif_rounded_hours(hours: Decimal) -> int:
    """The seed: a decimal balance is rounded up to the next whole hour."""
    return int(Decimal(hours).to_integral_value(rounding=ROUND_CEILING))


@transaction.atomic
def dif_declare(*, account: CpfAccount, situation: str, attestations: list[AttestationInput], today: datetime.date | None = None) -> DifDeclaration:
    """Credit the DIF balance at once (15 € an hour); the attestations stay for control."""
    if not dif_is_open(today):
        raise FinancingError(f"Vos heures DIF non saisies avant le {dif_deadline():%d/%m/%Y} sont perdues.")
    _locked(account)
    if account.dif_declarations.exclude(status=DifDeclaration.Status.REFUSEE).exists():
        raise FinancingError("Votre solde DIF est déjà saisi.")
    hours = dif_rounded_hours(dif_hours(situation, attestations))
    if not 1 <= hours <= DIF_MAX_HOURS:
        raise FinancingError(f"Le solde DIF doit être compris entre 1 et {DIF_MAX_HOURS} heures.")
    amount = dif_euros_cents(hours)
    declaration = DifDeclaration.objects.create(account=account, situation=situation, hours=hours, amount_cents=amount)
    for attestation in attestations:
        DifAttestation.objects.create(
            declaration=declaration,
            employer=attestation.employer,
            hours=attestation.hours,
            issued_on=attestation.issued_on,
            file=attestation.file,
            content_type=attestation.content_type,
            size=attestation.file.size,
            original_name=getattr(attestation.file, "name", "")[:255],
        )
    _append(account, MovementKind.DIF, amount, f"Heures DIF : {hours} h × {EUROS_PER_DIF_HOUR} €", dif_declaration=declaration)
    return declaration


@transaction.atomic
def dif_accept(*, declaration: DifDeclaration, by) -> DifDeclaration:
    declaration = DifDeclaration.objects.select_for_update().get(pk=declaration.pk)
    if declaration.status != DifDeclaration.Status.EN_CONTROLE:
        raise FinancingError("Cette saisie DIF a déjà été contrôlée.")
    declaration.status = DifDeclaration.Status.ACCEPTEE
    declaration.reviewed_by, declaration.reviewed_at = by, timezone.now()
    declaration.save(update_fields=["status", "reviewed_by", "reviewed_at"])
    return declaration


@transaction.atomic
def dif_reject(*, declaration: DifDeclaration, reason: str, by) -> DifDeclaration:
    """Refuse the attestation: a movement takes the DIF credit back, the titulaire is told
    by e-mail and in « Mes notifications »."""

    if not reason.strip():
        raise FinancingError("Indiquez le motif du refus.")
    declaration = DifDeclaration.objects.select_for_update().select_related("account__user").get(pk=declaration.pk)
    if declaration.status == DifDeclaration.Status.REFUSEE:
        raise FinancingError("Cette saisie DIF est déjà refusée.")
    _locked(declaration.account)
    declaration.status = DifDeclaration.Status.REFUSEE
    declaration.rejection_reason = reason.strip()
    declaration.reviewed_by, declaration.reviewed_at = by, timezone.now()
    declaration.save(update_fields=["status", "rejection_reason", "reviewed_by", "reviewed_at"])
    _append(
        declaration.account,
        MovementKind.DIF,
        -declaration.amount_cents,
        "Heures DIF annulées (attestation refusée)",
        dif_declaration=declaration,
        reason=declaration.rejection_reason,
        by=by,
    )
    user = declaration.account.user
    context = {"user": user, "declaration": declaration}
    email_queue(to=user.email, user=user, template="financing/emails/dif_rejected", context=context)
    notify_from_template(user=user, template="financing/notifications/dif_rejected", context=context, url="/mes-droits/")
    return declaration


DIF_REMINDER_DAYS = (30, 7, 1)


def dif_send_reminders(today: datetime.date | None = None) -> int:
    """Remind titulaires who have not entered their DIF at J-30, J-7 and J-1 (each once,
    even if the job runs twice or is late: the window's first day still sends it)."""

    today = today or timezone.localdate()
    days_left = (dif_deadline() - today).days
    if days_left < 0:
        return 0
    step = next((days for days in sorted(DIF_REMINDER_DAYS) if days_left <= days), None)
    if step is None:
        return 0
    users = (
        User.objects.titulaires()
        .filter(is_active=True, activated_at__isnull=False)
        .exclude(cpf_account__dif_declarations__status__in=[DifDeclaration.Status.EN_CONTROLE, DifDeclaration.Status.ACCEPTEE])
        .only("pk", "email", "first_name")
    )
    sent = 0
    for user in users.iterator(chunk_size=500):
        with transaction.atomic():
            email = email_queue(
                to=user.email,
                user=user,
                template="financing/emails/dif_reminder",
                context={"user": user, "deadline": dif_deadline(), "days_left": days_left},
                dedup_key=f"dif-reminder:{dif_deadline():%Y%m%d}:J-{step}:{user.pk}",
            )
        sent += email is not None
    return sent


# --- Financing a training ----------------------------------------------------------------------


@dataclass(frozen=True)
class FinancingSplit:
    """« Mon financement »: what the rights, the abondements and the person pay."""

    price_cents: int
    available_cents: int
    abondements_cents: int
    participation_cents: int  # participation forfaitaire obligatoire, included in reste à payer
    droits_cents: int
    reste_a_payer_cents: int
    avoir_cents: int = 0  # the part of the reste à payer the titulaire's avoirs pay, before the card
    exemption: str = ""  # why no participation forfaitaire is due (« » when it is)
    cap_cents: int | None = None  # the most the rights may pay for this type of action
    cap_label: str = ""  # « pour un bilan de compétences »
    capped: bool = False  # the rights stop at the cap (they would pay more without it)

    @property
    def covered_by_rights(self) -> bool:
        return self.reste_a_payer_cents == 0

    @property
    def card_cents(self) -> int:
        """What is paid by card: the reste à payer less the avoirs used."""
        return self.reste_a_payer_cents - self.avoir_cents


def in_force(rows, day: datetime.date):
    """The row of a dated table (rows with a ``start_date``) in force on ``day``, or None."""
    return rows.filter(start_date__lte=day).order_by("-start_date").first()


def participation_on(day: datetime.date) -> int:
    """The participation forfaitaire in force on ``day`` (0 before 2 May 2024)."""
    rule = in_force(ParticipationForfaitaire.objects.all(), day)
    return rule.amount_cents if rule else 0


# Why no participation forfaitaire is due, by co-financing (docs/regles.md §7, CDC).
EXEMPTING_FINANCEURS = {
    "employeur": "votre employeur abonde votre formation",
    "opco": "un OPCO, votre branche ou un accord de groupe cofinance votre formation",
    "c2p": "vous utilisez vos points C2P pour une reconversion",
    "atmp": "vous utilisez votre abondement de victime d'accident du travail ou de maladie professionnelle",
}
JOBSEEKER = "vous êtes demandeur d'emploi"
# Who counts as a third party co-financing a salarié's permis (loi de finances 2026): not
# the titulaire's own C2P points or AT/MP abondement.
THIRD_PARTY_FINANCEURS = ("employeur", "france_travail", "region", "opco", "autre")


def participation_exemption(employment_status: str, financeurs=()) -> str:
    """Why a person in ``employment_status`` pays no participation forfaitaire on a training
    co-financed by ``financeurs`` (abondements' kinds), or « » when it is due."""
    if employment_status == EmploymentStatus.DEMANDEUR_EMPLOI:
        return JOBSEEKER
    return next((reason for financeur, reason in EXEMPTING_FINANCEURS.items() if financeur in set(financeurs)), "")


# « pour un bilan de compétences »: the cap's sentence, per type d'action.
CAP_LABELS = {
    "RS": "pour une certification du répertoire spécifique",
    "RNCP": "pour une certification RNCP",
    "PERMIS": "pour un permis de conduire",
    "BILAN": "pour un bilan de compétences",
    "VAE": "pour une VAE",
    "CREATION": "pour une formation à la création ou reprise d'entreprise",
}


def rule_on(key: str, day: datetime.date) -> int | None:
    """The value of the dated rule ``key`` on ``day`` (None before its first row: no rule)."""
    rule = in_force(DatedRule.objects.filter(key=key), day)
    return rule.value if rule else None


def caps_in_force(day: datetime.date) -> list[FundingCap]:
    """The cap of each type of action on ``day`` (the « Aide » page reads them)."""
    return list(FundingCap.objects.filter(start_date__lte=day).order_by("action_type", "-start_date").distinct("action_type"))


def cap_on(day: datetime.date, action_type: str, code: str = "") -> int | None:
    """The cap of the rights for this type of action (and certification code) on ``day``,
    or None (no cap, or the certification is excluded from it)."""
    rule = in_force(FundingCap.objects.filter(action_type=action_type), day)
    if rule is None or code in rule.excluded_codes:
        return None
    return rule.amount_cents


def compute_split(
    *,
    price_cents: int,
    available_cents: int,
    on_date: datetime.date,
    abondements_cents: int = 0,
    participation_cents: int | None = None,
    avoirs_cents: int = 0,
    exemption: str = "",
    cap_cents: int | None = None,
    cap_label: str = "",
) -> FinancingSplit:
    """Abondements first, then the rights, up to the price less the participation and up to
    the cap of the type of action; the person pays the rest by card (when the rest already
    exceeds the participation, the participation is inside it). The titulaire's avoirs pay
    the reste à payer before the card."""
    if participation_cents is None:
        participation_cents = 0 if exemption else participation_on(on_date)
    participation = min(participation_cents, price_cents)
    payable_by_others = price_cents - participation
    abondements = max(0, min(abondements_cents, payable_by_others))
    uncapped = max(0, min(available_cents, payable_by_others - abondements))
    droits = min(uncapped, cap_cents) if cap_cents is not None else uncapped
    return FinancingSplit(
        price_cents=price_cents,
        available_cents=available_cents,
        abondements_cents=abondements,
        participation_cents=participation,
        droits_cents=droits,
        reste_a_payer_cents=price_cents - abondements - droits,
        avoir_cents=max(0, min(avoirs_cents, price_cents - abondements - droits)),
        exemption=exemption if participation_cents == 0 else "",
        cap_cents=cap_cents,
        cap_label=cap_label,
        capped=droits < uncapped,
    )


def is_low_qualification(user) -> bool:
    return getattr(user, "diploma", "") == Diploma.NONE
