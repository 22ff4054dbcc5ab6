"""« Évaluer ma formation » (titulaire) and « Évaluations » of the Espace organisme."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.permissions import titulaire_required
from catalogue.models import Formation
from cpf_portal.http import list_links
from dossiers.models import Dossier
from equipes.permissions import Right, organisme_required

from . import selectors, services
from .forms import EvaluationForm
from .models import Evaluation, Moderation


@titulaire_required
@require_http_methods(["GET", "POST"])
def evaluate(request, numero):
    """The evaluation form of a dossier's training (its titulaire only: anyone else gets a 404)."""
    dossier = get_object_or_404(Dossier.objects.for_titulaire(request.user).select_related("formation__organisme"), numero=numero)
    evaluation = Evaluation.objects.filter(dossier=dossier).first()
    context = {"dossier": dossier, "evaluation": evaluation, "refusal": "", "failed": False}
    if evaluation is not None:
        if request.method == "POST":
            raise services.AlreadyEvaluated()
        return render(request, "evaluations/evaluate.html", {**context, "form": None})
    if not services.training_ended(dossier, timezone.localdate()):
        if request.method == "POST":
            raise services.EvaluationError(services.not_ended_reason(dossier))
        return render(request, "evaluations/evaluate.html", {**context, "form": None, "refusal": services.not_ended_reason(dossier)})
    form = EvaluationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if not form.is_valid():
            return render(request, "evaluations/evaluate.html", {**context, "form": form, "failed": True}, status=400)
        services.evaluation_create(
            dossier=dossier,
            by=request.user,
            scores=form.scores,
            comment=form.cleaned_data["comment"],
            training_confirmed=form.cleaned_data["training_confirmed"],
        )
        text = "Merci, votre évaluation est enregistrée."
        if form.cleaned_data["comment"].strip():
            text += " Votre commentaire sera publié sans votre nom après relecture."
        messages.success(request, text)
        return redirect("dossiers:detail", dossier.numero)
    return render(request, "evaluations/evaluate.html", {**context, "form": form})


@organisme_required(Right.CATALOGUE_VOIR)
def organisme_evaluations(request):
    """The organisme's ratings: per formation and criterion, its published comments, how many
    wait for moderation. No titulaire's name, nor dossier number."""
    organisme = request.user.organisme
    evaluations = Evaluation.objects.for_organisme(organisme)
    formation = None
    if numero := request.GET.get("formation"):
        formation = get_object_or_404(Formation.objects.for_organisme(organisme), numero=numero)
        evaluations = evaluations.filter(formation=formation)
    totals = evaluations.aggregate(count=Count("id"), pending=Count("id", filter=Q(moderation=Moderation.PENDING)))
    rows = [
        {**row, "criteria": selectors.criteria(row), "overall": selectors.one_decimal(row["formation__rating_average"])}
        for row in selectors.organisme_formations(organisme)
    ]
    comments = Paginator(selectors.published_comments(evaluations).select_related("formation"), 20).get_page(request.GET.get("page"))
    return render(
        request,
        "evaluations/organisme.html",
        {
            "organisme": organisme,
            "formation": formation,
            "totals": totals,
            "rows": rows,
            "page": comments,
            "query_prefix": list_links(request.GET)["query_prefix"],
        },
    )
