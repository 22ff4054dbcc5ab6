"""« Mes interlocuteurs » (the titulaire chooses a structure near them) and the conseiller's
space: the dossiers of the titulaires who chose the conseiller's structure, nothing else
(another structure's dossier answers 404), and the abondements a conseiller adds."""

import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts import services as account_services
from accounts.models import Structure
from accounts.permissions import conseiller_required, titulaire_required
from cpf_portal.http import render_form
from cpf_portal.money import euros, to_cents
from dossiers import money, services
from dossiers.forms import AbondementForm
from dossiers.models import Dossier, DossierAbondement
from dossiers.states import DossierError, Status

from .forms import InterlocuteurSearchForm
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
    context = {"page": page, "structure": request.user.structure, "titulaires": titulaires, "query_prefix": ""}
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
