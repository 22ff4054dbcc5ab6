"""Operators' side of the organismes' money: invoices and credit notes (read-only: they are
final once issued), payment batches (prepare from the invoices due, download the pain.001,
mark executed), bank details. Amounts in euros, French labels, overdue invoices flagged."""

from django.contrib import admin, messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from cpf_portal.admin_mixins import ReadOnlyMixin
from cpf_portal.templatetags import euros

from . import services
from .models import BankAccount, Invoice, InvoiceLine, PaymentBatch
from .views import serve_pdf


class InvoiceLineInline(ReadOnlyMixin, admin.TabularInline):
    model = InvoiceLine
    fields = ["dossier", "nature", "label", "ht", "tva_display", "tva", "ttc"]
    readonly_fields = fields
    extra = 0

    @admin.display(description="HT")
    def ht(self, obj):
        return euros(obj.ht_cents)

    @admin.display(description="TVA")
    def tva(self, obj):
        return euros(obj.tva_cents)

    @admin.display(description="TTC")
    def ttc(self, obj):
        return euros(obj.ttc_cents)


class OverdueFilter(admin.SimpleListFilter):
    title = "retard de paiement"
    parameter_name = "en_retard"

    def lookups(self, request, model_admin):
        return [("oui", "En retard (plus de 30 jours)")]

    def queryset(self, request, queryset):
        return queryset.filter(services.overdue_q()) if self.value() == "oui" else queryset


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["number", "kind", "organisme", "issued_at", "due_date", "total", "status", "late", "batch"]
    list_filter = [OverdueFilter, "status", "kind"]
    list_select_related = ["organisme", "batch"]
    search_fields = ["number", "organisme__raison_sociale", "=organisme__siret", "lines__dossier__numero"]
    date_hierarchy = "issued_at"
    fields = [
        "organisme",
        "kind",
        "number",
        "credited_invoice",
        "reason",
        "amounts",
        "issued_at",
        "due_date",
        "issued_by",
        "status",
        "batch",
        "paid_at",
        "payment_reference",
        "pdf_link",
    ]
    readonly_fields = fields
    inlines = [InvoiceLineInline]
    actions = ["prepare_batch"]

    def has_change_permission(self, request, obj=None):
        return request.user.is_staff  # to see the page; every field is read-only

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = {"show_save": False, "show_save_and_continue": False, "show_save_and_add_another": False, **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context=extra)

    @admin.display(description="montant TTC", ordering="total_ttc_cents")
    def total(self, obj):
        return euros(obj.total_ttc_cents)

    @admin.display(description="montants")
    def amounts(self, obj):
        return f"HT {euros(obj.total_ht_cents)} · TVA {euros(obj.total_tva_cents)} · TTC {euros(obj.total_ttc_cents)}"

    @admin.display(description="en retard", boolean=True)
    def late(self, obj):
        return obj.is_overdue

    @admin.display(description="PDF")
    def pdf_link(self, obj):
        if not obj.pdf:
            return "—"
        return format_html('<a href="{}">Télécharger le PDF</a>', reverse("admin:billing_invoice_pdf", args=[obj.pk]))

    def get_urls(self):
        return [path("<int:pk>/pdf/", self.admin_site.admin_view(self.pdf), name="billing_invoice_pdf"), *super().get_urls()]

    def pdf(self, request, pk):
        return serve_pdf(get_object_or_404(Invoice, pk=pk))

    @admin.action(description="Préparer un lot de paiement avec les factures sélectionnées dues")
    def prepare_batch(self, request, queryset):
        batch = services.batch_prepare(by=request.user, invoice_ids=list(queryset.values_list("pk", flat=True)))
        if batch is None:
            self.message_user(
                request,
                "Aucune des factures sélectionnées n'est à payer (émise, non encore dans un lot, coordonnées bancaires connues).",
                messages.WARNING,
            )
        else:
            self.message_user(request, f"Lot {batch.reference} préparé : {batch.count} virement(s), {euros(batch.total_cents)}.", messages.SUCCESS)


@admin.register(PaymentBatch)
class PaymentBatchAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["reference", "created_at", "execution_date", "count", "total", "status", "executed_at"]
    list_filter = ["status"]
    fields = ["reference", "status", "execution_date", "count", "total", "created_at", "created_by", "executed_at", "executed_by", "file_link"]
    readonly_fields = fields
    actions = ["execute"]

    def has_change_permission(self, request, obj=None):
        return request.user.is_staff

    @admin.display(description="montant total", ordering="total_cents")
    def total(self, obj):
        return euros(obj.total_cents)

    @admin.display(description="fichier SEPA")
    def file_link(self, obj):
        return format_html('<a href="{}">Télécharger le fichier pain.001</a>', reverse("admin:billing_paymentbatch_pain001", args=[obj.pk]))

    def get_urls(self):
        return [path("<int:pk>/pain001/", self.admin_site.admin_view(self.pain001), name="billing_paymentbatch_pain001"), *super().get_urls()]

    def pain001(self, request, pk):
        batch = get_object_or_404(PaymentBatch, pk=pk)
        response = HttpResponse(batch.pain001, content_type="application/xml; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{batch.reference}.xml"'
        return response

    @admin.action(description="Marquer comme exécutés par la banque (factures payées)")
    def execute(self, request, queryset):
        paid = executed = 0
        for batch in queryset.filter(status=PaymentBatch.Status.PREPARED):
            paid += services.batch_execute(batch=batch, by=request.user, now=timezone.now())
            executed += 1
        if not executed:
            # Only batches already executed were chosen: nothing was paid, nobody told.
            self.message_user(request, "Ce lot est déjà exécuté : rien n'a été payé.", messages.WARNING)
            return
        skipped = queryset.count() - executed
        note = f" {skipped} lot(s) déjà exécuté(s) : rien n'y a été payé." if skipped else ""
        self.message_user(request, f"{paid} facture(s) payée(s) ; les organismes sont prévenus.{note}", messages.SUCCESS)


@admin.register(BankAccount)
class BankAccountAdmin(admin.ModelAdmin):
    list_display = ["organisme", "holder", "iban_masked", "bic", "updated_at", "updated_by"]
    list_select_related = ["organisme", "updated_by"]
    search_fields = ["organisme__raison_sociale", "=organisme__siret", "holder"]
    readonly_fields = ["organisme", "holder", "iban", "bic", "updated_at", "updated_by"]

    def has_add_permission(self, request):
        return False  # the organisme enters its own (« Facturation » → « Coordonnées bancaires »)

    def has_delete_permission(self, request, obj=None):
        return False
