"""« Mes droits formation »: balances, history, DIF entry, private attestations, receipts."""

from django.contrib import messages
from django.db.models import Case, F, Min, Q, Sum, When, Window
from django.db.models.functions import Coalesce
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from accounts.permissions import titulaire_required
from cpf_portal.http import private_file, render_form
from cpf_portal.templatetags import euros

from . import services
from .chart import balance_chart
from .forms import AttestationFormSet, DifSituationForm
from .history import history_page
from .models import ACQUIRED_KINDS, Avoir, DifAttestation, DifDeclaration, Movement, MovementKind, Payment, Refund


@titulaire_required
def rights(request):
    account = services.account_for(request.user)
    totals = services.balances(account)
    page, entries = history_page(account, request.GET.get("page"))
    # Available rights after each movement: acquired ones add, blocked ones subtract.
    effect = Case(When(kind__in=ACQUIRED_KINDS, then=F("amount_cents")), default=-F("amount_cents"))
    running = (
        Movement.objects.filter(account=account)
        .annotate(balance=Window(Sum(effect), order_by=[F("created_at").asc(), F("id").asc()]))
        .order_by("created_at", "id")
        .values_list("created_at", "balance")
    )
    declarations = DifDeclaration.objects.filter(account=account).prefetch_related("attestations")
    # Each dossier's movements summed (one query): blocked at acceptance, given back, debited.
    per_dossier = [
        {**row, "debited": -row["debit"], "released": -row["unlock"] + row["debit"], "still": row["blocked"] + row["unlock"]}
        for row in Movement.objects.filter(account=account, dossier__isnull=False)
        .values("dossier__numero", "dossier__formation__intitule")
        .annotate(
            blocked=Coalesce(Sum("amount_cents", filter=Q(kind=MovementKind.BLOCAGE)), 0),
            unlock=Coalesce(Sum("amount_cents", filter=Q(kind=MovementKind.DEBLOCAGE)), 0),
            debit=Coalesce(Sum("amount_cents", filter=Q(kind=MovementKind.DEBIT)), 0),
            first=Min("created_at"),
        )
        .order_by("-first")
    ]
    context = {
        "totals": totals,
        "page": page,
        "entries": entries,
        "chart": balance_chart(list(running)),
        "dif_open": services.dif_is_open(),
        "dif_deadline": services.dif_deadline(),
        "dif_declarations": declarations,
        "dif_pending": any(d.status != DifDeclaration.Status.REFUSEE for d in declarations),
        "per_dossier": per_dossier,
        "avoirs": Avoir.objects.filter(user=request.user).select_related("dossier").order_by("-created_at"),
        "refunds": Refund.objects.filter(payment__user=request.user).select_related("payment").order_by("-created_at"),
        "query_prefix": "",
    }
    return render(request, "financing/rights.html", context)


@titulaire_required
@require_http_methods(["GET", "POST"])
def dif_entry(request):
    account = services.account_for(request.user)
    if not services.dif_is_open():
        messages.error(request, f"Vos heures DIF non saisies avant le {services.dif_deadline():%d/%m/%Y} sont perdues.")
        return redirect("financing:rights")
    if DifDeclaration.objects.filter(account=account).exclude(status=DifDeclaration.Status.REFUSEE).exists():
        messages.info(request, "Votre solde DIF est déjà saisi.")
        return redirect("financing:rights")
    data, files = (request.POST, request.FILES) if request.method == "POST" else (None, None)
    situation_form = DifSituationForm(data)
    situation = situation_form.cleaned_data["situation"] if situation_form.is_bound and situation_form.is_valid() else None
    formset = AttestationFormSet(data, files, prefix="attestation", situation=situation)
    if request.method == "POST" and situation and formset.is_valid():
        attestations = [
            services.AttestationInput(
                employer=form.cleaned_data["employer"],
                hours=form.cleaned_data["hours"],
                issued_on=form.cleaned_data["issued_on"],
                file=form.cleaned_data["file"],
                content_type=form.content_type,
            )
            for form in formset.forms
            if form.has_changed()
        ]
        try:
            declaration = services.dif_declare(account=account, situation=situation, attestations=attestations)
        except services.FinancingError as error:
            formset._non_form_errors = formset.error_class([str(error)], renderer=formset.renderer)
        else:
            messages.success(
                request, f"{declaration.hours} h de DIF enregistrées : {euros(declaration.amount_cents)} ajoutés à vos droits formation."
            )
            return redirect("financing:rights")
    context = {"situation_form": situation_form, "formset": formset, "deadline": services.dif_deadline()}
    status_forms = [situation_form, *formset.forms]
    response = render_form(request, "financing/dif_form.html", context, *status_forms)
    if request.method == "POST" and formset.non_form_errors():
        response.status_code = 400
    return response


@titulaire_required
def attestation_file(request, public_id):
    """A DIF attestation, for its owner only (operators open it from the admin)."""
    attestation = get_object_or_404(DifAttestation.objects.select_related("declaration__account"), public_id=public_id)
    if attestation.declaration.account.user_id != request.user.pk:
        raise Http404
    return _serve(attestation)


def _serve(attestation: DifAttestation) -> FileResponse:
    """The attestation (erased with its owner's account: 404), after the caller's check."""
    extension = attestation.file.name.rsplit(".", 1)[-1]
    return private_file(attestation.file, content_type=attestation.content_type, filename=f"attestation-dif-{attestation.public_id}.{extension}")


@titulaire_required
def receipt(request, public_id):
    payment = get_object_or_404(Payment, public_id=public_id, user=request.user, status__in=[Payment.Status.SUCCEEDED, Payment.Status.REFUNDED])
    return render(request, "financing/receipt.html", {"payment": payment})
