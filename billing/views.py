"""« Facturation » in the Espace organisme: the dossiers to bill (one invoice for the ones
chosen), « Suivi des règlements » (every invoice and credit note, filters, CSV), each
invoice with its PDF and its credit note, and the organisme's bank details. Everything is
scoped to the person's organisme: another organisme's invoice is a 404."""

from __future__ import annotations

from auditlog.models import LogEntry
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from cpf_portal import audit
from cpf_portal.http import list_links, posted, private_file, render_form, table_download
from cpf_portal.money import amount
from equipes.permissions import Right, can, organisme_required

from . import services
from .forms import BankAccountForm, CreditNoteForm, InvoiceFilterForm
from .models import BankAccount, Invoice


def _bank(organisme) -> BankAccount | None:
    return BankAccount.objects.filter(organisme=organisme).first()


def _to_bill_page(request, *, error: str = "", status: int = 200):
    organisme = request.user.organisme
    dossiers = (
        services.billable(organisme).select_related("titulaire", "formation", "session__action").order_by("service_done_at", "entered_at", "numero")
    )
    page = Paginator(dossiers, 100).get_page(request.GET.get("page"))
    rows = [(dossier, services.line_for(dossier)) for dossier in page.object_list]
    context = {"page": page, "rows": rows, "bank": _bank(organisme), "error": error, "query_prefix": ""}
    return render(request, "billing/to_bill.html", context, status=status)


@organisme_required(Right.FACTURATION_VOIR, post=Right.FACTURATION_GERER)
def to_bill(request):
    if request.method != "POST":
        return _to_bill_page(request)
    try:
        invoice = services.invoice_issue(organisme=request.user.organisme, dossier_ids=request.POST.getlist("dossiers"), by=request.user)
    except (services.BillingError, ValueError) as error:
        message = error.message if isinstance(error, services.BillingError) else "La sélection n'est pas valide."
        return _to_bill_page(request, error=message, status=400)
    messages.success(request, f"La facture n° {invoice.number} est émise ({invoice.total_display}).")
    return redirect("billing:invoice", number=invoice.number)


def _invoices(request, form: InvoiceFilterForm):
    invoices = Invoice.objects.filter(organisme=request.user.organisme).select_related("credited_invoice", "batch")
    if not form.is_valid():
        return invoices
    data = form.cleaned_data
    if data["status"] == "late":
        invoices = invoices.filter(services.overdue_q())
    elif data["status"]:
        invoices = invoices.filter(status=data["status"])
    if data["kind"]:
        invoices = invoices.filter(kind=data["kind"])
    if data["issued_from"]:
        invoices = invoices.filter(issued_at__date__gte=data["issued_from"])
    if data["issued_to"]:
        invoices = invoices.filter(issued_at__date__lte=data["issued_to"])
    return invoices.order_by("-issued_at", "-id")


@organisme_required(Right.FACTURATION_VOIR)
def invoice_list(request):
    """« Suivi des règlements »."""
    form = InvoiceFilterForm(request.GET or None)
    page = Paginator(_invoices(request, form), 25).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, **list_links(request.GET)}
    return render_form(request, "billing/invoice_list.html", context, form)


@organisme_required(Right.FACTURATION_VOIR)
def invoice_export(request, fmt):
    """The same list as CSV or Excel."""
    invoices = _invoices(request, InvoiceFilterForm(request.GET or None))
    header = ["numero", "type", "emise_le", "echeance", "total_ht", "total_tva", "total_ttc", "etat", "payee_le", "reference_virement"]
    lines = (
        [
            invoice.number,
            invoice.get_kind_display(),
            timezone.localtime(invoice.issued_at).strftime("%d/%m/%Y"),
            invoice.due_date.strftime("%d/%m/%Y"),
            amount(invoice.total_ht_cents),
            amount(invoice.total_tva_cents),
            amount(invoice.total_ttc_cents),
            "En retard de paiement" if invoice.is_overdue else invoice.get_status_display(),
            timezone.localtime(invoice.paid_at).strftime("%d/%m/%Y") if invoice.paid_at else "",
            invoice.payment_reference,
        ]
        for invoice in invoices.iterator(chunk_size=500)
    )
    return table_download(fmt, f"factures-{timezone.localdate():%Y-%m-%d}", header, lines)


def _invoice(request, number: str) -> Invoice:
    return get_object_or_404(
        Invoice.objects.select_related("organisme", "credited_invoice", "batch"), organisme=request.user.organisme, number=number
    )


def _invoice_page(request, invoice: Invoice, form=None, status: int = 200):
    context = {
        "invoice": invoice,
        "lines": invoice.lines.select_related("dossier"),
        "credit_form": form or CreditNoteForm(),
        "credit_note": Invoice.objects.filter(credited_invoice=invoice).first(),
    }
    return render(request, "billing/invoice_detail.html", context, status=status)


@organisme_required(Right.FACTURATION_VOIR)
def invoice_detail(request, number):
    return _invoice_page(request, _invoice(request, number))


@organisme_required(Right.FACTURATION_GERER)
@require_POST
def invoice_credit(request, number):
    invoice = _invoice(request, number)
    form = CreditNoteForm(request.POST)
    if form.is_valid():
        try:
            credit = services.invoice_credit(invoice=invoice, reason=form.cleaned_data["reason"], by=request.user)
        except services.BillingError as error:
            form.add_error("reason", error.message)
        else:
            messages.success(request, f"L'avoir n° {credit.number} annule la facture n° {invoice.number} ; ses dossiers sont de nouveau à facturer.")
            return redirect("billing:invoice", number=credit.number)
    return _invoice_page(request, invoice, form, status=400)


def serve_pdf(invoice: Invoice) -> FileResponse:
    """The invoice's PDF, downloaded, after the caller's check."""
    return private_file(
        invoice.pdf, as_attachment=True, content_type="application/pdf", filename=f"{invoice.get_kind_display().lower()}-{invoice.number}.pdf"
    )


@organisme_required(Right.FACTURATION_VOIR)
def invoice_pdf(request, number):
    return serve_pdf(_invoice(request, number))


@organisme_required(Right.FACTURATION_VOIR, post=Right.FACTURATION_GERER)
def bank_account(request):
    organisme = request.user.organisme
    account = _bank(organisme)
    initial = {"holder": account.holder, "iban": account.iban, "bic": account.bic} if account else {"holder": organisme.raison_sociale}
    form = BankAccountForm(posted(request), initial=initial).read_only(not can(request).facturation_gerer)
    if request.method == "POST" and form.is_valid():
        services.bank_account_save(organisme=organisme, by=request.user, **form.cleaned_data)
        messages.success(request, "Les coordonnées bancaires sont enregistrées.")
        return redirect("billing:bank")
    history = list(LogEntry.objects.get_for_object(account).select_related("actor").order_by("-timestamp")[:20]) if account else []
    for entry in history:
        entry.changed = audit.changed_labels(entry, BankAccount)
    return render_form(request, "billing/bank_account.html", {"form": form, "account": account, "history": history}, form)
