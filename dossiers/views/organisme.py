"""« Espace organisme »: its home, the inbox of dossiers (EDOF), each dossier's page and one
POST endpoint per transition the organisme fires."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, F, Q
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from catalogue.models import Formation
from cpf_portal.http import list_links, private_file, table_download
from cpf_portal.money import amount, from_cents
from equipes.permissions import Right, can, current_membership, organisme_required, what_you_do

from .. import billing, display, services
from ..forms import InboxFilterForm, OrganismeCancelForm, ProofForm, ProposalForm, RefusalForm, ServiceDoneForm, VersionForm
from ..models import Dossier, ServiceProof
from ..states import Actor, ControlState, Status
from .actions import Action, failed_label, open_actions, run_action

DISPLAY = ("formation__organisme", "formation__certification", "session__commune", "titulaire", "payment")


def _proposal_form(dossier, data):
    initial = {
        "version": dossier.version,
        "price": from_cents(dossier.price_cents),
        "start_date": dossier.start_date,
        "end_date": dossier.end_date,
        "duree_heures": dossier.duree_heures,
    }
    return ProposalForm(data, initial=initial)


def _service_form(dossier, data):
    today = timezone.localdate()
    return ServiceDoneForm(
        data, initial={"version": dossier.version, "exit_date": min(today, dossier.effective_end_date or today), "completion_rate": 100}
    )


ACTIONS = {
    "acknowledge": Action(
        form=lambda dossier, data: VersionForm(data, initial={"version": dossier.version}),
        success=f"L'accusé de réception est envoyé au titulaire : vous avez {settings.DOSSIER_PREREQUISITES_REPLY_DAYS} jours à compter de sa demande pour y répondre.",
        offered=lambda dossier: dossier.with_prerequisites and dossier.acknowledged_at is None,
    ),
    "propose": Action(form=_proposal_form, payload=lambda form: form.payload(), success="Votre proposition est envoyée au titulaire."),
    "refuse": Action(
        form=lambda dossier, data: RefusalForm(data, initial={"version": dossier.version}),
        payload=lambda form: {"reason": form.reason()},
        success="La demande est refusée ; le titulaire est prévenu.",
    ),
    "enter": Action(
        form=lambda dossier, data: VersionForm(data, initial={"version": dossier.version}), success="L'entrée en formation est déclarée."
    ),
    "no_show": Action(
        form=lambda dossier, data: VersionForm(data, initial={"version": dossier.version}),
        success="L'absence du titulaire est déclarée : l'indemnité de 5 % est à facturer.",
    ),
    "cancel_by_organisme": Action(
        form=lambda dossier, data: OrganismeCancelForm(data, initial={"version": dossier.version}),
        payload=lambda form: {"reason": form.cleaned_data["reason"]},
        success="La formation est annulée ; le titulaire est prévenu.",
    ),
    "declare_service_done": Action(
        form=_service_form,
        payload=lambda form: {key: form.cleaned_data[key] for key in ("exit_reason", "completion_rate", "exit_date", "force_majeure")},
        success="La sortie de formation et le service fait sont déclarés.",
    ),
}


@organisme_required(Right.EQUIPE_VOIR)
def home(request):
    """« Espace organisme »: the catalogue at a glance and the requests waiting for an answer."""
    organisme = request.user.organisme
    membership, allowed = current_membership(request), can(request)
    counts = Formation.objects.for_organisme(organisme).aggregate(total=Count("id"), published=Count("id", filter=Q(active=True)))
    context = {
        "organisme": organisme,
        "membership": membership,
        "doing": what_you_do(allowed.rights),
        "counts": counts,
        "to_answer": Dossier.objects.for_organisme(organisme).filter(status=Status.SENT).count() if allowed.dossiers_voir else 0,
        "to_bill": billing.to_bill(Dossier.objects.filter(organisme=organisme)).count() if allowed.facturation_voir else 0,
        "team_size": organisme.memberships.count(),
        "other_organismes": request.user.memberships.exclude(organisme=organisme).count(),
    }
    return render(request, "catalogue/organisme/home.html", context)


def _dossier(request, numero: str) -> Dossier:
    return get_object_or_404(Dossier.objects.for_organisme(request.user.organisme).select_related(*DISPLAY), numero=numero)


def _inbox_queryset(request, form: InboxFilterForm):
    dossiers = Dossier.objects.for_organisme(request.user.organisme).select_related("titulaire", "formation", "session__commune")
    status = form.cleaned_data.get("status") if form.is_valid() else ""
    if status == "a_traiter":
        dossiers = dossiers.filter(status=Status.SENT)
    elif status:
        dossiers = dossiers.filter(status=status)
    return dossiers.order_by(F("deadline_at").asc(nulls_last=True), "-sent_at", "-id")


@organisme_required(Right.DOSSIERS_VOIR)
def inbox(request):
    form = InboxFilterForm(request.GET or None)
    page = Paginator(_inbox_queryset(request, form), 25).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "labels": display.ORGANISME_LABELS, **list_links(request.GET)}
    return render(request, "dossiers/organisme/inbox.html", context)


@organisme_required(Right.DOSSIERS_VOIR)
def inbox_export(request, fmt):
    """The inbox (same filter) as CSV or Excel."""
    rows = _inbox_queryset(request, InboxFilterForm(request.GET or None))
    header = ["numero", "etat", "titulaire", "courriel", "formation", "debut", "fin", "prix_ttc", "envoye_le", "echeance"]
    lines = (
        [
            dossier.numero,
            display.organisme_label(dossier.status),
            dossier.titulaire.full_name,
            dossier.titulaire.email,
            dossier.formation.intitule,
            _csv_date(dossier.effective_start_date),
            _csv_date(dossier.effective_end_date),
            amount(dossier.effective_price_cents),
            timezone.localtime(dossier.sent_at).strftime("%d/%m/%Y %H:%M") if dossier.sent_at else "",
            timezone.localtime(dossier.deadline_at).strftime("%d/%m/%Y %H:%M") if dossier.deadline_at else "",
        ]
        for dossier in rows.iterator(chunk_size=500)
    )
    return table_download(fmt, f"dossiers-{timezone.localdate():%Y-%m-%d}", header, lines)


def _csv_date(value) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def _page(request, numero: str, bound: dict, status: int = 200, proof_form=None):
    dossier = _dossier(request, numero)
    treats = can(request).dossiers_traiter  # a Lecteur sees the dossier, not the actions
    context = {
        "proofs": dossier.proofs.all(),
        "proof_form": proof_form or (ProofForm() if dossier.status in PROOF_STATES and treats else None),
        "dossier": dossier,
        "forms": open_actions(dossier, Actor.ORGANISME, ACTIONS, bound) if treats else {},
        "deadline": "" if dossier.control_state == ControlState.IN_CONTROL else dossier.organisme_deadline,
        "failed": failed_label(bound) or ("Déposer un justificatif" if proof_form is not None and proof_form.errors else ""),
        "info": dossier.titulaire_info,
        "events": dossier.events.select_related("actor").order_by("created_at", "id"),
    }
    return render(request, "dossiers/organisme/detail.html", context, status=status)


@organisme_required(Right.DOSSIERS_VOIR)
def dossier_detail(request, numero):
    return _page(request, numero, {})


@organisme_required(Right.DOSSIERS_TRAITER)
@require_POST
def dossier_action(request, numero, name):
    """One transition of the organisme (propose, refuse, enter, cancel_by_organisme,
    declare_service_done)."""
    return run_action(
        request,
        dossier=_dossier(request, numero),
        name=name,
        actor=Actor.ORGANISME,
        table=ACTIONS,
        page=lambda bound, status: _page(request, numero, bound, status),
        detail_url=reverse("dossiers:organisme-detail", args=[numero]),
    )


PROOF_STATES = (Status.IN_TRAINING, Status.SERVICE_DONE, Status.DEBITED)


@organisme_required(Right.DOSSIERS_TRAITER)
@require_POST
def proof_upload(request, numero):
    """« Justificatifs de réalisation »: the organisme attaches a proof to its dossier."""
    dossier = _dossier(request, numero)
    form = ProofForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, numero, {}, 400, proof_form=form)
    services.proof_add(
        dossier=dossier, kind=form.cleaned_data["kind"], upload=form.cleaned_data["file"], content_type=form.content_type, by=request.user
    )
    messages.success(request, "Le justificatif est déposé.")
    return redirect("dossiers:organisme-detail", numero=numero)


def serve_proof(proof: ServiceProof) -> FileResponse:
    """A proof of the training, after the caller's check."""
    extension = proof.file.name.rsplit(".", 1)[-1]
    return private_file(proof.file, content_type=proof.content_type, filename=f"justificatif-{proof.dossier.numero}-{proof.pk}.{extension}")


@organisme_required(Right.DOSSIERS_VOIR)
def proof_file(request, numero, public_id):
    dossier = _dossier(request, numero)
    return serve_proof(get_object_or_404(ServiceProof.objects.select_related("dossier"), dossier=dossier, public_id=public_id))
