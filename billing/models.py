"""The organisme's money: its bank details, its invoices (numbered from its own sequence,
immutable once issued, corrected by credit notes), and the operators' payment batches that
pay them by SEPA credit transfer. Amounts are integer cents."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from cpf_portal.money import euros


class BankAccount(models.Model):
    """Where the organisme is paid. Every change is in the audit trail (who, when, from where)."""

    organisme = models.OneToOneField("catalogue.Organisme", on_delete=models.PROTECT, related_name="bank_account", verbose_name="organisme")
    holder = models.CharField("titulaire du compte", max_length=70)
    iban = models.CharField("IBAN", max_length=34)
    bic = models.CharField("BIC", max_length=11)
    updated_at = models.DateTimeField("modifié le", default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="modifié par"
    )

    class Meta:
        verbose_name = "coordonnées bancaires"
        verbose_name_plural = "coordonnées bancaires"

    def __str__(self):
        return f"{self.organisme} — {self.iban_masked}"

    @property
    def iban_masked(self) -> str:
        """« FR76 **** **** **** **** **** 189 »: enough to recognise it."""
        return f"{self.iban[:4]} {'**** ' * ((len(self.iban) - 7) // 4)}{self.iban[-3:]}"


class InvoiceCounter(models.Model):
    """The organisme's invoice sequence: the last number given. Locked (SELECT … FOR UPDATE)
    by the transaction issuing an invoice, so numbers follow each other with no gap and no
    duplicate, whatever runs at the same time; a rolled-back issue gives its number back."""

    organisme = models.OneToOneField("catalogue.Organisme", on_delete=models.PROTECT, primary_key=True, related_name="+")
    last_number = models.PositiveIntegerField(default=0, verbose_name="dernier numéro")

    def __str__(self):
        return f"{self.organisme_id}: {self.last_number}"


class Invoice(models.Model):
    """An invoice (or a credit note) of an organisme to the Caisse des Dépôts. Immutable once
    issued: a database trigger refuses any change to its number, amounts or lines; only its
    payment progress moves (in a batch, paid, cancelled by a credit note)."""

    class Kind(models.TextChoices):
        FACTURE = "facture", "Facture"
        AVOIR = "avoir", "Avoir"

    class Status(models.TextChoices):
        ISSUED = "issued", "Émise"
        IN_BATCH = "in_batch", "En paiement"
        PAID = "paid", "Payée"
        CREDITED = "credited", "Annulée par un avoir"
        CREDIT_NOTE = "credit_note", "Avoir émis"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, verbose_name="identifiant public")
    organisme = models.ForeignKey("catalogue.Organisme", on_delete=models.PROTECT, related_name="invoices", verbose_name="organisme")
    kind = models.CharField("type", max_length=10, choices=Kind, default=Kind.FACTURE)
    sequence = models.PositiveIntegerField("rang dans la séquence de l'organisme")
    number = models.CharField("numéro", max_length=20)
    credited_invoice = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="credit_note", verbose_name="facture annulée"
    )
    reason = models.TextField("motif (avoir)", blank=True)
    total_ht_cents = models.BigIntegerField("total HT")
    total_tva_cents = models.BigIntegerField("total TVA")
    total_ttc_cents = models.BigIntegerField("total TTC")
    issued_at = models.DateTimeField("émise le")
    due_date = models.DateField("échéance de paiement")
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="émise par"
    )
    status = models.CharField("état", max_length=12, choices=Status, default=Status.ISSUED)
    pdf = models.FileField("PDF", upload_to="factures/%Y/%m/", blank=True)
    batch = models.ForeignKey(
        "PaymentBatch", null=True, blank=True, on_delete=models.PROTECT, related_name="invoices", verbose_name="lot de paiement"
    )
    paid_at = models.DateTimeField("payée le", null=True, blank=True)
    payment_reference = models.CharField("référence du virement", max_length=35, blank=True)

    class Meta:
        verbose_name = "facture"
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organisme", "sequence"], name="invoice_sequence_unique"),
            models.UniqueConstraint(fields=["organisme", "number"], name="invoice_number_unique"),
            models.CheckConstraint(
                name="invoice_totals_add_up", condition=Q(total_ttc_cents=models.F("total_ht_cents") + models.F("total_tva_cents"))
            ),
            models.CheckConstraint(name="invoice_amounts_positive", condition=Q(total_ht_cents__gte=0, total_tva_cents__gte=0)),
            models.CheckConstraint(
                name="invoice_credit_note_references",
                condition=Q(kind="facture", credited_invoice__isnull=True) | Q(kind="avoir", credited_invoice__isnull=False),
            ),
        ]
        indexes = [
            models.Index(fields=["organisme", "-issued_at"]),
            models.Index(fields=["due_date"], condition=Q(status__in=["issued", "in_batch"]), name="invoice_unpaid_idx"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} n° {self.number}"

    @property
    def is_overdue(self) -> bool:
        return self.status in (self.Status.ISSUED, self.Status.IN_BATCH) and self.due_date < timezone.localdate()

    @property
    def total_display(self) -> str:
        return euros(self.total_ttc_cents)


class InvoiceLine(models.Model):
    """One dossier on an invoice: what is billed for it (acompte, balance), split HT / TVA."""

    class Nature(models.TextChoices):
        ACOMPTE = "acompte", "Acompte (25 %)"
        SOLDE = "solde", "Prestation réalisée"
        INDEMNITE = "indemnite", "Indemnité d'annulation (5 %)"

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines", verbose_name="facture")
    dossier = models.ForeignKey("dossiers.Dossier", on_delete=models.PROTECT, related_name="invoice_lines")
    nature = models.CharField("nature", max_length=10, choices=Nature)
    label = models.CharField("désignation", max_length=300)
    tva_rate = models.PositiveSmallIntegerField("taux de TVA (points de base)")
    ht_cents = models.BigIntegerField("montant HT")
    tva_cents = models.BigIntegerField("TVA")
    ttc_cents = models.BigIntegerField("montant TTC")

    class Meta:
        verbose_name = "ligne de facture"
        verbose_name_plural = "lignes de facture"
        ordering = ["id"]
        constraints = [models.CheckConstraint(name="invoice_line_adds_up", condition=Q(ttc_cents=models.F("ht_cents") + models.F("tva_cents")))]

    def __str__(self):
        return self.label

    @property
    def tva_display(self) -> str:
        return tva_label(self.tva_rate)


def tva_label(basis_points: int) -> str:
    """« Exonérée », « 5,5 % », « 20 % »."""
    return "Exonérée" if basis_points == 0 else f"{basis_points / 100:g}".replace(".", ",") + " %"


class PaymentBatch(models.Model):
    """A payment run: the invoices due gathered once, one SEPA credit-transfer file (pain.001)
    for the bank; marked executed once the bank has made the transfers."""

    class Status(models.TextChoices):
        PREPARED = "prepared", "Préparé (fichier à transmettre à la banque)"
        EXECUTED = "executed", "Exécuté"

    reference = models.CharField("référence", max_length=35, unique=True)
    status = models.CharField("état", max_length=10, choices=Status, default=Status.PREPARED)
    execution_date = models.DateField("date d'exécution demandée")
    total_cents = models.BigIntegerField("montant total")
    count = models.PositiveIntegerField("nombre de virements")
    pain001 = models.TextField("fichier SEPA (pain.001.001.03)")
    created_at = models.DateTimeField("créé le", default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="créé par"
    )
    executed_at = models.DateTimeField("exécuté le", null=True, blank=True)
    executed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="exécuté par"
    )

    class Meta:
        verbose_name = "lot de paiement"
        verbose_name_plural = "lots de paiement"
        ordering = ["-created_at"]

    def __str__(self):
        return self.reference
