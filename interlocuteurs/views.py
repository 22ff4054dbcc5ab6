"""« Mes interlocuteurs » (the titulaire chooses a structure near them) and the conseiller's
space: the dossiers of the titulaires who chose the conseiller's structure, nothing else
(another structure's dossier answers 404), and the abondements a conseiller adds."""

import uuid
from decimal import Decimal

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts import services as account_services
from accounts.models import Structure
from accounts.permissions import conseiller_required, titulaire_required
from cpf_portal.http import render_form
from cpf_portal.money import euros, to_cents
from dossiers import money, services
from dossiers.forms import AbondementForm
from dossiers.models import Dossier, DossierAbondement
from dossiers.states import DossierError, Status

from . import services as cofinancing_services
from .forms import CofinancingGrantForm, CofinancingRefuseForm, CofinancingRequestForm, InterlocuteurSearchForm
from .models import CofinancingRequest
from .services import search_structures

DISPLAY = ("formation__organisme", "formation__certification", "session__commune", "titulaire", "payment")


@titulaire_required
@require_http_methods(["GET", "POST"])
def directory(request):
    if request.method == "POST":
        if request.POST.get("action") == "retirer":
            account_services.interlocuteur_choose(user=request.user, structure=None)
            messages.success(request, "Vous n'avez plus d'interlocuteur privilégié.")
        else:
            try:
                public_id = uuid.UUID(request.POST.get("structure", ""))
            except ValueError:
                raise Http404("Structure inconnue.") from None
            structure = get_object_or_404(Structure, public_id=public_id)
            account_services.interlocuteur_choose(user=request.user, structure=structure)
            messages.success(request, f"{structure.name} est désormais votre interlocuteur.")
        return redirect("interlocuteurs:directory")
    form = InterlocuteurSearchForm(request.GET or None)
    results = None
    if form.is_bound and form.is_valid() and (form.place or form.cleaned_data["departement"]):
        types = [form.cleaned_data["type"]] if form.cleaned_data["type"] else None
        results = list(search_structures(commune=form.place, departement=form.cleaned_data["departement"], types=types)[:30])
    context = {"form": form, "results": results, "current": request.user.interlocuteur}
    return render_form(request, "interlocuteurs/directory.html", context, form)


def _conseiller_dossiers(request):
    return Dossier.objects.filter(titulaire__interlocuteur=request.user.structure).exclude(status__in=[Status.DRAFT, Status.DELETED])


@conseiller_required
def conseiller_home(request):
    dossiers = _conseiller_dossiers(request).select_related("titulaire", "formation", "organisme").order_by("-sent_at", "-id")
    page = Paginator(dossiers, 25).get_page(request.GET.get("page"))
    titulaires = request.user.structure.titulaires.filter(is_active=True).count()
    waiting = CofinancingRequest.objects.for_structure(request.user.structure).waiting().count()
    context = {"page": page, "structure": request.user.structure, "titulaires": titulaires, "waiting": waiting, "query_prefix": ""}
    return render(request, "interlocuteurs/conseiller/home.html", context)


def _conseiller_page(request, numero: str, form=None, status: int = 200):
    dossier = get_object_or_404(_conseiller_dossiers(request).select_related(*DISPLAY), numero=numero)
    if form is None and dossier.status in (Status.SENT, Status.PROPOSED):
        form = AbondementForm(initial={"version": dossier.version})
    context = {
        "dossier": dossier,
        "form": form,
        "split": money.split_for(dossier, today=timezone.localdate()) if dossier.status in (Status.SENT, Status.PROPOSED) else None,
        "abondements": dossier.abondements.select_related("added_by").order_by("created_at"),
        "cofinancing_requests": CofinancingRequest.objects.for_structure(request.user.structure).filter(dossier=dossier).order_by("-created_at"),
    }
    return render(request, "interlocuteurs/conseiller/detail.html", context, status=status)


@conseiller_required
@require_http_methods(["GET", "POST"])
def conseiller_detail(request, numero):
    """A titulaire's dossier; POST adds an abondement (sent or proposed dossiers only)."""
    if request.method == "GET":
        return _conseiller_page(request, numero)
    dossier = get_object_or_404(_conseiller_dossiers(request), numero=numero)
    request.error_page = lambda status: _conseiller_page(request, numero, status=status)
    if dossier.status not in (Status.SENT, Status.PROPOSED):
        raise DossierError("Un abondement s'ajoute quand le dossier est envoyé ou proposé par l'organisme.")
    form = AbondementForm(request.POST, initial={"version": dossier.version})
    if not form.is_valid():
        return _conseiller_page(request, numero, form, 400)
    structure = request.user.structure
    financeur = {"france_travail": DossierAbondement.Financeur.FRANCE_TRAVAIL}.get(structure.type, DossierAbondement.Financeur.AUTRE)
    amount = to_cents(form.cleaned_data["amount"])
    services.abondement_add(
        dossier=dossier,
        financeur=financeur,
        financeur_name=structure.name,
        amount_cents=amount,
        by=request.user,
        expected_version=form.cleaned_data["version"],
    )
    messages.success(request, f"Abondement de {euros(amount)} ajouté : le financement du dossier est recalculé.")
    return redirect("interlocuteurs:conseiller-detail", numero=numero)


# --- « Demander un financement complémentaire » -------------------------------------------------


def _titulaire_dossier(request, numero: str) -> Dossier:
    return get_object_or_404(Dossier.objects.for_titulaire(request.user).select_related(*DISPLAY), numero=numero)


def _request_page(request, dossier: Dossier, form, status: int = 200):
    context = {
        "dossier": dossier,
        "form": form,
        "structure": request.user.interlocuteur,
        "split": money.split_for(dossier, today=timezone.localdate()),
    }
    return render(request, "interlocuteurs/cofinancing_request.html", context, status=status)


@titulaire_required
@require_http_methods(["GET", "POST"])
def cofinancing_request(request, numero):
    """« Demander un financement complémentaire » to the titulaire's interlocuteur. The form is
    on the dossier page; this page shows it again with its errors (and works on its own)."""
    dossier = _titulaire_dossier(request, numero)
    back = reverse("dossiers:detail", args=[numero]) + "#financement-complementaire"
    if request.method == "GET":
        return _request_page(request, dossier, CofinancingRequestForm(prefix="cofi"))
    form = CofinancingRequestForm(request.POST, prefix="cofi")
    request.error_page = lambda status: _request_page(request, dossier, form, status)
    if not form.is_valid():
        return _request_page(request, dossier, form, 400)
    amount = form.cleaned_data["amount"]
    cofinancing = cofinancing_services.cofinancing_request_create(
        dossier=dossier, by=request.user, amount_cents=to_cents(amount) if amount is not None else None, message=form.cleaned_data["message"]
    )
    messages.success(request, f"Votre demande de financement complémentaire est envoyée à {cofinancing.structure.name}.")
    return redirect(back)


@titulaire_required
@require_POST
def cofinancing_cancel(request, numero, public_id):
    """« Annuler ma demande » while it waits for an answer."""
    dossier = _titulaire_dossier(request, numero)
    cofinancing = get_object_or_404(CofinancingRequest.objects.for_titulaire(request.user), dossier=dossier, public_id=public_id)
    cofinancing_services.cofinancing_request_cancel(cofinancing=cofinancing, by=request.user)
    messages.success(request, "Votre demande de financement complémentaire est annulée.")
    return redirect(reverse("dossiers:detail", args=[numero]) + "#financement-complementaire")


def _structure_requests(request):
    return CofinancingRequest.objects.for_structure(request.user.structure)


@conseiller_required
def conseiller_requests(request):
    """The requests of the structure waiting for an answer, oldest first; then the last answered."""
    waiting = _structure_requests(request).waiting().select_related("dossier__titulaire", "dossier__formation").order_by("created_at", "id")
    page = Paginator(waiting, 25).get_page(request.GET.get("page"))
    answered = (
        _structure_requests(request)
        .exclude(status=CofinancingRequest.Status.PENDING)
        .select_related("dossier__titulaire", "dossier__formation", "abondement")
        .order_by("-answered_at", "-id")[:10]
    )
    context = {"page": page, "answered": answered, "structure": request.user.structure, "query_prefix": ""}
    return render(request, "interlocuteurs/conseiller/requests.html", context)


def _conseiller_request_page(request, public_id, *, grant=None, refuse=None, status: int = 200):
    cofinancing = get_object_or_404(
        _structure_requests(request).select_related("structure", "answered_by", "abondement", *(f"dossier__{field}" for field in DISPLAY)),
        public_id=public_id,
    )
    dossier = cofinancing.dossier
    open_request = cofinancing.is_pending and dossier.status in (Status.SENT, Status.PROPOSED)
    if open_request:
        split = money.split_for(dossier, today=timezone.localdate())
        asked = cofinancing.amount_cents or split.reste_a_payer_cents
        grant = grant or CofinancingGrantForm(initial={"version": dossier.version, "amount": f"{Decimal(asked) / 100:.2f}".replace(".", ",")})
        refuse = refuse or CofinancingRefuseForm()
    else:
        split = None
    context = {
        "cofinancing": cofinancing,
        "dossier": dossier,
        "split": split,
        "open_request": open_request,
        "grant": grant,
        "refuse": refuse,
        "abondements": dossier.abondements.select_related("added_by").order_by("created_at"),
        "failed": bool((grant and grant.errors) or (refuse and refuse.errors)),
    }
    return render(request, "interlocuteurs/conseiller/request.html", context, status=status)


@conseiller_required
@require_http_methods(["GET", "POST"])
def conseiller_request(request, public_id):
    """A request of the structure; POST « action=accorder » grants an abondement, « refuser »
    refuses with a reason."""
    if request.method == "GET":
        return _conseiller_request_page(request, public_id)
    cofinancing = get_object_or_404(_structure_requests(request), public_id=public_id)
    request.error_page = lambda status: _conseiller_request_page(request, public_id, status=status)
    if request.POST.get("action") == "refuser":
        form = CofinancingRefuseForm(request.POST)
        if not form.is_valid():
            return _conseiller_request_page(request, public_id, refuse=form, status=400)
        cofinancing_services.cofinancing_refuse(cofinancing=cofinancing, by=request.user, reason=form.cleaned_data["reason"])
        messages.success(request, "Demande refusée : le titulaire est prévenu et lit votre motif sur son dossier.")
        return redirect("interlocuteurs:conseiller-request", public_id=public_id)
    form = CofinancingGrantForm(request.POST, initial={"version": cofinancing.dossier.version})
    if not form.is_valid():
        return _conseiller_request_page(request, public_id, grant=form, status=400)
    amount = to_cents(form.cleaned_data["amount"])
    cofinancing_services.cofinancing_grant(
        cofinancing=cofinancing, by=request.user, amount_cents=amount, expected_version=form.cleaned_data["version"]
    )
    messages.success(request, f"Abondement de {euros(amount)} accordé : le financement du dossier est recalculé et le titulaire est prévenu.")
    return redirect("interlocuteurs:conseiller-request", public_id=public_id)
