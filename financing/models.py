"""The CPF account as an append-only ledger of movements in euro cents.

Nothing stores a balance: « droits acquis », « droits bloqués » and « droits disponibles »
are sums of movements (see ``LedgerQuerySet.balances``). A mistake is fixed by a new
movement, never by editing or deleting one.
"""

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q, Sum
from django.utils import timezone

from catalogue.models import ACTION_TYPES
from cpf_portal.files import private_name
from cpf_portal.money import euros

EUROS_PER_DIF_HOUR = 15
DIF_MAX_HOURS = 120


class CpfAccount(models.Model):
    """One per titulaire; the row every money operation locks (select_for_update)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cpf_account", verbose_name="titulaire")
    created_at = models.DateTimeField(default=timezone.now, verbose_name="ouvert le")

    class Meta:
        verbose_name = "compte CPF"
        verbose_name_plural = "comptes CPF"

    def __str__(self):
        return f"Compte CPF de {self.user}"


class MovementKind(models.TextChoices):
    ALIMENTATION = "alimentation", "Alimentation du compte"
    DIF = "dif", "Heures DIF"
    ABONDEMENT = "abondement", "Abondement"
    BLOCAGE = "blocage", "Droits bloqués"
    DEBLOCAGE = "deblocage", "Droits débloqués"
    DEBIT = "debit", "Droits débités"
    CORRECTION = "correction", "Correction"


# Movements that change the rights acquired; the others move rights in and out of « bloqués ».
ACQUIRED_KINDS = [MovementKind.ALIMENTATION, MovementKind.DIF, MovementKind.ABONDEMENT, MovementKind.CORRECTION, MovementKind.DEBIT]
LOCK_KINDS = [MovementKind.BLOCAGE, MovementKind.DEBLOCAGE]


def ledger_sums(prefix: str = "") -> dict:
    """The rights acquired and locked as aggregate expressions over movements reached through
    ``prefix`` (« movements__ » from an account): the one definition of both balances."""
    amount = f"{prefix}amount_cents"
    return {
        "acquired": Sum(amount, filter=Q(**{f"{prefix}kind__in": ACQUIRED_KINDS}), default=0),
        "locked": Sum(amount, filter=Q(**{f"{prefix}kind__in": LOCK_KINDS}), default=0),
    }


def available_sum(prefix: str = ""):
    """The droits disponibles (acquired − locked) as one aggregate expression."""
    sums = ledger_sums(prefix)
    return sums["acquired"] - sums["locked"]


class LedgerQuerySet(models.QuerySet):
    def balances(self) -> dict:
        """{"acquired", "locked", "available"} in cents, in one query."""
        totals = self.aggregate(**ledger_sums())
        totals["available"] = totals["acquired"] - totals["locked"]
        return totals


class Movement(models.Model):
    """One line of the ledger. Signed amount: + adds to its balance, − takes from it.
    ALIMENTATION, BLOCAGE > 0; DEBLOCAGE, DEBIT < 0; DIF, ABONDEMENT, CORRECTION ≠ 0 (a
    negative DIF or ABONDEMENT reverses an earlier one)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, verbose_name="identifiant public")
    account = models.ForeignKey(CpfAccount, on_delete=models.PROTECT, related_name="movements", verbose_name="compte CPF")
    kind = models.CharField("type", max_length=15, choices=MovementKind)
    amount_cents = models.BigIntegerField("montant (centimes)")
    label = models.CharField("libellé", max_length=200)
    year = models.PositiveSmallIntegerField("année d'acquisition", null=True, blank=True)
    dif_declaration = models.ForeignKey(
        "DifDeclaration", null=True, blank=True, on_delete=models.PROTECT, related_name="movements", verbose_name="saisie DIF"
    )
    reference = models.CharField("référence", max_length=100, blank=True, help_text="Dossier, financeur ou pièce à l'origine du mouvement.")
    dossier = models.ForeignKey("dossiers.Dossier", null=True, blank=True, on_delete=models.PROTECT, related_name="movements", verbose_name="dossier")
    reason = models.TextField("motif", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="saisi par"
    )
    created_at = models.DateTimeField("date", default=timezone.now, db_index=True)

    objects = LedgerQuerySet.as_manager()

    class Meta:
        verbose_name = "mouvement"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "created_at"])]
        constraints = [
            models.CheckConstraint(
                name="financing_movement_sign_by_kind",
                condition=(
                    Q(kind__in=["alimentation", "blocage"], amount_cents__gt=0)
                    | Q(kind__in=["deblocage", "debit"], amount_cents__lt=0)
                    | (Q(kind__in=["dif", "abondement", "correction"]) & ~Q(amount_cents=0))
                ),
            ),
            # The yearly credit is posted once per account and year.
            models.UniqueConstraint(fields=["account", "year"], condition=Q(kind="alimentation"), name="financing_one_alimentation_per_year"),
            models.CheckConstraint(name="financing_correction_has_reason", condition=~Q(kind="correction") | ~Q(reason="")),
        ]

    def __str__(self):
        return f"{self.label} ({euros(self.amount_cents)})"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("Un mouvement du compte ne se modifie pas : ajoutez un mouvement correctif.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Un mouvement du compte ne se supprime pas : ajoutez un mouvement correctif.")


class YearlyDeclaration(models.Model):
    """What the yearly credit was computed from: one row per person and year, from the
    employers' declarations (DSN) — the import of their yearly file, or, in the demo, the
    simulated DSN (``financing.dsn``)."""

    class Status(models.TextChoices):
        SALARIE = "salarie", "Salarié"
        INDEPENDANT = "independant", "Travailleur indépendant"
        ARTISTE_AUTEUR = "artiste_auteur", "Artiste-auteur"

    class Source(models.TextChoices):
        IMPORT = "import", "Déclarations importées"
        SIMULATED = "dsn_simulee", "DSN simulée (démonstration)"

    account = models.ForeignKey(CpfAccount, on_delete=models.PROTECT, related_name="declarations", verbose_name="compte CPF")
    year = models.PositiveSmallIntegerField("année")
    status = models.CharField("statut", max_length=20, choices=Status)
    hours_worked = models.DecimalField("heures travaillées", max_digits=7, decimal_places=2)
    low_qualification = models.BooleanField("sans qualification de niveau 3 (ou RQTH)", default=False)
    computed_cents = models.BigIntegerField("montant calculé")
    credited_cents = models.BigIntegerField("montant crédité (après plafond)")
    movement = models.OneToOneField(Movement, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="mouvement")
    source = models.CharField("source", max_length=12, choices=Source, default=Source.IMPORT)
    imported_at = models.DateTimeField(default=timezone.now, verbose_name="importée le")

    class Meta:
        verbose_name = "déclaration annuelle"
        verbose_name_plural = "déclarations annuelles"
        constraints = [models.UniqueConstraint(fields=["account", "year"], name="financing_one_declaration_per_year")]

    def __str__(self):
        return f"{self.account.user} — {self.year}"


class DifDeclaration(models.Model):
    class Situation(models.TextChoices):
        UN_EMPLOYEUR = "un", "Un seul employeur"
        SUCCESSIFS = "successifs", "Plusieurs employeurs successifs la même année : seule la dernière attestation compte"
        SIMULTANES = "simultanes", "Plusieurs employeurs en même temps : les heures s'additionnent"

    class Status(models.TextChoices):
        EN_CONTROLE = "en_controle", "En cours de contrôle"
        ACCEPTEE = "acceptee", "Attestation acceptée"
        REFUSEE = "refusee", "Attestation refusée"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, verbose_name="identifiant public")
    account = models.ForeignKey(CpfAccount, on_delete=models.PROTECT, related_name="dif_declarations", verbose_name="compte CPF")
    situation = models.CharField("situation", max_length=12, choices=Situation)
    hours = models.PositiveSmallIntegerField("heures DIF retenues")
    amount_cents = models.BigIntegerField("montant crédité")
    status = models.CharField("état", max_length=12, choices=Status, default=Status.EN_CONTROLE)
    rejection_reason = models.TextField("motif du refus", blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="contrôlée par"
    )
    reviewed_at = models.DateTimeField("contrôlée le", null=True, blank=True)
    created_at = models.DateTimeField("saisie le", default=timezone.now)

    class Meta:
        verbose_name = "saisie DIF"
        verbose_name_plural = "saisies DIF"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(name="financing_dif_hours_range", condition=Q(hours__gte=1, hours__lte=DIF_MAX_HOURS)),
            models.CheckConstraint(name="financing_dif_refusal_has_reason", condition=~Q(status="refusee") | ~Q(rejection_reason="")),
        ]

    def __str__(self):
        return f"DIF de {self.account.user} : {self.hours} h"


def attestation_path(instance, filename):
    return private_name("dif", instance)


class DifAttestation(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, verbose_name="identifiant public")
    declaration = models.ForeignKey(DifDeclaration, on_delete=models.PROTECT, related_name="attestations", verbose_name="saisie DIF")
    employer = models.CharField("employeur", max_length=200)
    hours = models.DecimalField("heures DIF de l'attestation", max_digits=5, decimal_places=2)
    issued_on = models.DateField("date de l'attestation")
    file = models.FileField("fichier", upload_to=attestation_path)
    content_type = models.CharField("type du fichier (d'après son contenu)", max_length=50)
    size = models.PositiveIntegerField("taille (octets)")
    original_name = models.CharField("nom du fichier envoyé", max_length=255)

    class Meta:
        verbose_name = "attestation DIF"
        verbose_name_plural = "attestations DIF"
        ordering = ["issued_on", "id"]

    def __str__(self):
        return f"Attestation {self.employer} ({self.hours} h)"


class ParticipationForfaitaire(models.Model):
    """Participation forfaitaire obligatoire (décret 2024-394), by date of effect: the amount
    a titulaire pays on each training bought with CPF rights, unless exempt."""

    start_date = models.DateField("applicable à partir du", unique=True)
    amount_cents = models.PositiveIntegerField("montant (centimes)")
    source = models.CharField("texte", max_length=200, blank=True)

    class Meta:
        verbose_name = "participation forfaitaire obligatoire"
        verbose_name_plural = "participations forfaitaires obligatoires"
        ordering = ["-start_date"]

    def __str__(self):
        return f"{euros(self.amount_cents)} à partir du {self.start_date:%d/%m/%Y}"


class FundingCap(models.Model):
    """« Plafonds de prise en charge », by type d'action and date of effect: the most the CPF
    rights pay for one training of that type (the rest falls to the reste à payer or to
    co-financing). Operators add next year's row in the admin: nothing to deploy."""

    action_type = models.CharField("type d'action", max_length=10, choices=[(key, label) for key, label in ACTION_TYPES.items()])
    start_date = models.DateField("applicable à partir du")
    amount_cents = models.PositiveIntegerField("plafond des droits (centimes)")
    excluded_codes = ArrayField(
        models.CharField(max_length=20),
        verbose_name="certifications exclues (codes)",
        default=list,
        blank=True,
        help_text="Exemple : 5080 pour CléA (RS5080).",
    )
    source = models.CharField("texte", max_length=300, blank=True)

    class Meta:
        verbose_name = "plafond de prise en charge"
        verbose_name_plural = "plafonds de prise en charge"
        ordering = ["action_type", "-start_date"]
        constraints = [models.UniqueConstraint(fields=["action_type", "start_date"], name="financing_fundingcap_unique")]

    def __str__(self):
        return f"{ACTION_TYPES.get(self.action_type, self.action_type)} : {euros(self.amount_cents)} à partir du {self.start_date:%d/%m/%Y}"


class DatedRule(models.Model):
    """The other figures of the rules in force, by date of effect (operators add next year's
    row in the admin). Before a key's first row, its rule does not apply."""

    class Key(models.TextChoices):
        BILAN_MIN_HOURS = "bilan_min_hours", "Bilan de compétences : durée minimale (heures)"
        BILAN_EVERY_YEARS = "bilan_every_years", "Bilan de compétences : un seul financé tous les (années)"
        MAX_OPEN_REQUESTS = "max_open_requests", "Demandes en cours à la fois pour une même action (au plus)"
        PERMIS_MIN_COFINANCING = "permis_min_cofinancing", "Permis de conduire d'un salarié : cofinancement d'un tiers d'au moins (euros)"

    # Rules whose value is money: kept in cents, read and typed in euros.
    MONEY_KEYS = frozenset({Key.PERMIS_MIN_COFINANCING})

    key = models.CharField("règle", max_length=30, choices=Key)
    start_date = models.DateField("applicable à partir du")
    value = models.PositiveIntegerField(
        "valeur", help_text="Un nombre d'heures, d'années ou de demandes ; un montant en euros pour un cofinancement."
    )
    source = models.CharField("texte", max_length=300, blank=True)

    class Meta:
        verbose_name = "règle datée"
        verbose_name_plural = "règles datées"
        ordering = ["key", "-start_date"]
        constraints = [models.UniqueConstraint(fields=["key", "start_date"], name="financing_datedrule_unique")]

    def __str__(self):
        return f"{self.get_key_display()} : {self.value_display} à partir du {self.start_date:%d/%m/%Y}"

    @property
    def value_display(self) -> str:
        return euros(self.value) if self.key in self.MONEY_KEYS else str(self.value)


class Payment(models.Model):
    """A card payment of a reste à payer. The card number is never stored: its last four
    digits only."""

    class Status(models.TextChoices):
        PENDING = "pending", "Paiement en cours"
        SUCCEEDED = "succeeded", "Paiement accepté"
        FAILED = "failed", "Paiement refusé"
        REFUNDED = "refunded", "Remboursé"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, verbose_name="identifiant public")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payments", verbose_name="titulaire")
    purpose = models.CharField("objet", max_length=200)
    reference = models.CharField("référence payée", max_length=100, help_text="Par exemple le numéro du dossier.")
    amount_cents = models.PositiveIntegerField("montant (centimes)")
    status = models.CharField("état", max_length=10, choices=Status, default=Status.PENDING)
    idempotency_key = models.UUIDField("clé d'idempotence", unique=True)
    provider = models.CharField("prestataire", max_length=30)
    provider_reference = models.CharField("référence du prestataire", max_length=100, blank=True)
    card_brand = models.CharField("réseau", max_length=20, blank=True)
    card_last4 = models.CharField("4 derniers chiffres", max_length=4, blank=True)
    failure_reason = models.CharField("motif du refus", max_length=200, blank=True)
    receipt_number = models.CharField("numéro de reçu", max_length=30, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, verbose_name="créé le")
    paid_at = models.DateTimeField(null=True, blank=True, verbose_name="payé le")
    refunded_at = models.DateTimeField(null=True, blank=True, verbose_name="remboursé le")

    class Meta:
        verbose_name = "paiement"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(name="financing_payment_positive", condition=Q(amount_cents__gt=0)),
            # A dossier cannot be paid twice, whatever the requests do.
            models.UniqueConstraint(
                fields=["reference"], condition=Q(status__in=["pending", "succeeded"]), name="financing_one_live_payment_per_reference"
            ),
        ]

    def __str__(self):
        return f"{self.purpose} — {euros(self.amount_cents)} ({self.get_status_display()})"


class Refund(models.Model):
    """Card money owed back to the titulaire (a cancellation in time, the organisme's
    cancellation): tracked from the decision to the transfer, due within 30 calendar days."""

    class Status(models.TextChoices):
        PENDING = "pending", "Remboursement à effectuer"
        DONE = "done", "Remboursé"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, verbose_name="identifiant public")
    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="refund", verbose_name="paiement remboursé")
    amount_cents = models.PositiveIntegerField("montant (centimes)")
    reason = models.CharField("motif", max_length=200)
    due_date = models.DateField("à rembourser au plus tard le")
    status = models.CharField("état", max_length=10, choices=Status, default=Status.PENDING)
    created_at = models.DateTimeField("décidé le", default=timezone.now)
    refunded_at = models.DateTimeField("remboursé le", null=True, blank=True)

    class Meta:
        verbose_name = "remboursement"
        ordering = ["due_date", "id"]
        indexes = [models.Index(fields=["due_date"], condition=Q(status="pending"), name="financing_refund_pending_idx")]

    def __str__(self):
        return f"{euros(self.amount_cents)} — {self.reason} ({self.get_status_display()})"


class Avoir(models.Model):
    """Card money a titulaire keeps as a credit after a late cancellation or a no-show (the
    rights engaged are lost, the money paid is not): spent on a later dossier's reste à payer,
    before the card."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, verbose_name="identifiant public")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="avoirs", verbose_name="titulaire")
    dossier = models.ForeignKey("dossiers.Dossier", on_delete=models.PROTECT, related_name="avoirs_created", verbose_name="dossier d'origine")
    payment = models.OneToOneField(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="avoir", verbose_name="paiement d'origine")
    amount_cents = models.PositiveIntegerField("montant (centimes)")
    used_cents = models.PositiveIntegerField("utilisé (centimes)", default=0)
    created_at = models.DateTimeField("créé le", default=timezone.now)

    class Meta:
        verbose_name = "avoir du titulaire"
        verbose_name_plural = "avoirs des titulaires"
        ordering = ["created_at", "id"]
        constraints = [models.CheckConstraint(name="financing_avoir_used_within", condition=Q(used_cents__lte=models.F("amount_cents")))]

    def __str__(self):
        return f"Avoir de {euros(self.amount_cents)} (reste {euros(self.remaining_cents)})"

    @property
    def remaining_cents(self) -> int:
        return self.amount_cents - self.used_cents
