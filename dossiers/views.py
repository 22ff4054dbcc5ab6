"""Dossier pages of the titulaire (« Mes dossiers ») and of the organisme (« Espace
organisme » inbox). Views parse input, call one service, redirect with a French message.
Objects come only from scoped querysets: someone else's dossier answers 404."""

from __future__ import annotations

import csv
import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import F
from django.http import JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.forms import PersonalInfoForm, ProfessionalInfoForm
from accounts.permissions import conseiller_required, organisme_required, titulaire_required
from catalogue.models import Session
from cpf_portal.http import posted
from cpf_portal.templatetags import euros
from financing.forms import CardForm

from . import services
from .forms import (
    CancelForm,
    FinancingConsentForm,
    InboxFilterForm,
    OrganismeCancelForm,
    ProposalForm,
    RefusalForm,
    SaveToAccountForm,
    ServiceDoneForm,
    VersionForm,
)
from .models import Dossier
from .workflow import ORGANISME_LABELS, Actor, DossierError, Status, TransitionNotAllowed

DISPLAY = ("formation__organisme", "formation__certification", "session__commune", "titulaire", "payment")


def _titulaire_dossier(request, numero: str) -> Dossier:
    return get_object_or_404(Dossier.objects.for_titulaire(request.user).select_related(*DISPLAY), numero=numero)


def _organisme_dossier(request, numero: str) -> Dossier:
    return get_object_or_404(Dossier.objects.for_organisme(request.user.organisme).select_related(*DISPLAY), numero=numero)


def _run(request, action, success: str) -> bool:
    """Run a service call; show refusals as messages. True when it went through."""
    try:
        action()
    except (TransitionNotAllowed, DossierError) as error:
        messages.error(request, str(error))
        return False
    messages.success(request, success)
    return True


# --- Titulaire -----------------------------------------------------------------------------------


@titulaire_required
@require_http_methods(["GET", "POST"])
def register(request, public_id):
    """« S'inscrire à cette session »: the fonction publique notice, then « Continuer »."""
    session = get_object_or_404(Session.objects.select_related("formation__organisme", "commune"), public_id=public_id, formation__active=True)
    if request.method == "POST":
        try:
            dossier = services.dossier_create(titulaire=request.user, session=session)
        except DossierError as error:
            messages.error(request, str(error))
            return redirect("catalogue:detail", numero=session.formation.numero)
        return redirect("dossiers:detail", numero=dossier.numero)
    return render(request, "dossiers/register.html", {"session": session, "formation": session.formation})


@titulaire_required
def dossier_list(request):
    dossiers = Dossier.objects.for_titulaire(request.user).select_related("formation__organisme", "session__commune").order_by("-created_at", "-id")
    page = Paginator(dossiers, 20).get_page(request.GET.get("page"))
    return render(request, "dossiers/list.html", {"page": page, "query_prefix": ""})


@titulaire_required
@require_http_methods(["GET", "POST"])
def dossier_detail(request, numero):
    dossier = _titulaire_dossier(request, numero)
    today = timezone.localdate()
    action = request.POST.get("action") if request.method == "POST" else None
    user = request.user
    forms = {}
    invalid = False

    if dossier.status == Status.DRAFT:
        info_data = request.POST if action == "save_info" else None
        initial = dossier.titulaire_info or None
        forms["pro"] = ProfessionalInfoForm(info_data, instance=user, prefix="pro", initial=_pick(initial, ProfessionalInfoForm))
        forms["perso"] = PersonalInfoForm(info_data, instance=user, prefix="perso", initial=_pick(initial, PersonalInfoForm))
        forms["save"] = SaveToAccountForm(info_data, prefix="info")
        if action == "save_info":
            if all(form.is_valid() for form in (forms["pro"], forms["perso"], forms["save"])) and _run(
                request,
                lambda: services.dossier_save_info(
                    dossier=dossier,
                    titulaire=user,
                    professional=forms["pro"].cleaned_data,
                    personal=forms["perso"].profile_data(),
                    save_to_account=forms["save"].cleaned_data["save_to_account"],
                ),
                "Vos informations sont validées. Vérifiez maintenant le financement de votre formation.",
            ):
                return redirect(reverse("dossiers:detail", args=[numero]) + "#financement")
            invalid = True
            user.refresh_from_db()
        split = services.split_for(dossier, today=today)
        forms["consent"] = FinancingConsentForm(
            request.POST if action == "send" else None,
            reste_a_payer_cents=split.reste_a_payer_cents,
            initial={"version": dossier.version, "expected_reste_a_payer_cents": split.reste_a_payer_cents},
        )
        if action == "send":
            form = forms["consent"]
            if form.is_valid():
                payload = {"consent": True, "expected_reste_a_payer_cents": form.cleaned_data["expected_reste_a_payer_cents"]}
                if _run(
                    request,
                    lambda: services.dossier_transition(
                        dossier_id=dossier.pk,
                        name="send",
                        actor=Actor.TITULAIRE,
                        by=user,
                        payload=payload,
                        expected_version=form.cleaned_data["version"],
                    ),
                    f"Votre dossier n° {dossier.numero} est envoyé à l'organisme de formation.",
                ):
                    return redirect("dossiers:detail", numero=numero)
                return redirect(reverse("dossiers:detail", args=[numero]) + "#financement")
            invalid = True
        context_split = split
    else:
        context_split = services.split_for(dossier, today=today) if dossier.status == Status.PROPOSED else None

    simple = {
        "delete": "Votre dossier est supprimé.",
        "cancel_request": "Votre demande d'inscription est annulée.",
        "decline": "Vous avez refusé la proposition de l'organisme.",
    }
    if action in simple:
        form = VersionForm(request.POST)
        if form.is_valid():
            done = _run(
                request,
                lambda: services.dossier_transition(
                    dossier_id=dossier.pk, name=action, actor=Actor.TITULAIRE, by=user, expected_version=form.cleaned_data["version"]
                ),
                simple[action],
            )
            if done and action == "delete":
                return redirect("dossiers:list")
            return redirect("dossiers:detail", numero=numero)
        messages.error(request, "Cette action n'est plus possible : rechargez la page.")
        return redirect("dossiers:detail", numero=numero)

    if dossier.status == Status.ACCEPTED:
        forms["cancel"] = CancelForm(request.POST if action == "cancel" else None, initial={"version": dossier.version})
        if action == "cancel":
            form = forms["cancel"]
            if form.is_valid():
                if _run(
                    request,
                    lambda: services.dossier_transition(
                        dossier_id=dossier.pk,
                        name="cancel",
                        actor=Actor.TITULAIRE,
                        by=user,
                        payload={"reason": form.cleaned_data["reason"], "force_majeure": form.cleaned_data["force_majeure"]},
                        expected_version=form.cleaned_data["version"],
                    ),
                    "Votre formation est annulée.",
                ):
                    return redirect("dossiers:detail", numero=numero)
            else:
                invalid = True

    context = {
        "dossier": dossier,
        "split": context_split,
        "forms": forms,
        "events": dossier.events.select_related("actor").order_by("created_at", "id"),
        "version_form": VersionForm(initial={"version": dossier.version}),
    }
    return render(request, "dossiers/detail.html", context, status=400 if invalid else 200)


def _pick(initial: dict | None, form_class) -> dict | None:
    if not initial:
        return None
    return {name: initial[name] for name in form_class.Meta.fields if name in initial}


@titulaire_required
@transaction.non_atomic_requests
@require_http_methods(["GET", "POST"])
def dossier_accept(request, numero):
    """Accept the proposal: pay the reste à payer by card (once), then the rights are
    blocked. Outside the request transaction: the card is charged between two transactions."""
    dossier = _titulaire_dossier(request, numero)
    if dossier.status != Status.PROPOSED:
        messages.error(request, f"Cette action n'est plus possible : le dossier est « {dossier.get_status_display()} ».")
        return redirect("dossiers:detail", numero=numero)
    split = services.split_for(dossier, today=timezone.localdate())
    data = request.POST if request.method == "POST" else None
    initial = {"idempotency_key": uuid.uuid4()}
    card_form = CardForm(data, initial=initial) if split.reste_a_payer_cents else None
    version_form = VersionForm(data, initial={"version": dossier.version})
    if request.method == "POST":
        forms_ok = all([version_form.is_valid(), card_form is None or card_form.is_valid()])
        if forms_ok:
            try:
                expected = int(request.POST.get("expected_reste_cents", "-1"))
            except ValueError:
                expected = -1
            card = getattr(card_form, "card", None) if card_form else None
            key = card_form.cleaned_data["idempotency_key"] if card_form else uuid.uuid4()
            try:
                accepted = services.dossier_pay_and_accept(
                    dossier=dossier,
                    titulaire=request.user,
                    card=card,
                    idempotency_key=key,
                    expected_version=version_form.cleaned_data["version"],
                    expected_reste_cents=expected,
                )
            except (TransitionNotAllowed, DossierError) as error:
                messages.error(request, str(error))
                return redirect("dossiers:accept" if dossier.status == Status.PROPOSED else "dossiers:detail", numero=numero)
            paid = f" Paiement de {euros(accepted.payment.amount_cents)} accepté." if accepted.payment_id else ""
            messages.success(
                request, f"Votre inscription est confirmée.{paid} {euros(accepted.locked_cents)} de droits sont bloqués pour cette formation."
            )
            return redirect("dossiers:detail", numero=numero)
    context = {"dossier": dossier, "split": split, "card_form": card_form, "version_form": version_form}
    status = 400 if request.method == "POST" else 200
    return render(request, "dossiers/accept.html", context, status=status)


# --- Organisme ------------------------------------------------------------------------------------


def _inbox_queryset(request, form: InboxFilterForm):
    dossiers = Dossier.objects.for_organisme(request.user.organisme).select_related("titulaire", "formation", "session__commune")
    status = form.cleaned_data.get("status") if form.is_valid() else ""
    if status == "a_traiter":
        dossiers = dossiers.filter(status=Status.SENT)
    elif status:
        dossiers = dossiers.filter(status=status)
    return dossiers.order_by(F("deadline_at").asc(nulls_last=True), "-sent_at", "-id")


@organisme_required
def inbox(request):
    form = InboxFilterForm(request.GET or None)
    page = Paginator(_inbox_queryset(request, form), 25).get_page(request.GET.get("page"))
    querystring = request.GET.copy()
    querystring.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "labels": ORGANISME_LABELS,
        "query_prefix": (querystring.urlencode() + "&") if querystring else "",
        "export_query": querystring.urlencode(),
    }
    return render(request, "dossiers/organisme/inbox.html", context)


class _Echo:
    def write(self, value):
        return value


@organisme_required
def inbox_export(request):
    """CSV of the inbox (same filter), streamed: « ; » separated, UTF-8 with BOM for Excel."""
    form = InboxFilterForm(request.GET or None)
    rows = _inbox_queryset(request, form)
    writer = csv.writer(_Echo(), delimiter=";")
    header = ["numero", "etat", "titulaire", "courriel", "formation", "debut", "fin", "prix_ttc", "envoye_le", "echeance"]

    def lines():
        yield "\ufeff" + writer.writerow(header)
        for dossier in rows.iterator(chunk_size=500):
            yield writer.writerow(
                [
                    dossier.numero,
                    ORGANISME_LABELS.get(dossier.status, dossier.get_status_display()),
                    dossier.titulaire.full_name,
                    dossier.titulaire.email,
                    dossier.formation.intitule,
                    _csv_date(dossier.effective_start_date),
                    _csv_date(dossier.effective_end_date),
                    f"{dossier.effective_price_cents / 100:.2f}".replace(".", ","),
                    timezone.localtime(dossier.sent_at).strftime("%d/%m/%Y %H:%M") if dossier.sent_at else "",
                    timezone.localtime(dossier.deadline_at).strftime("%d/%m/%Y %H:%M") if dossier.deadline_at else "",
                ]
            )

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="dossiers-{timezone.localdate():%Y-%m-%d}.csv"'
    return response


def _csv_date(value) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


@organisme_required
@require_http_methods(["GET", "POST"])
def organisme_detail(request, numero):
    dossier = _organisme_dossier(request, numero)
    action = request.POST.get("action") if request.method == "POST" else None
    user = request.user
    forms = {}
    invalid = False

    def fire(name, payload, message, form):
        return _run(
            request,
            lambda: services.dossier_transition(
                dossier_id=dossier.pk, name=name, actor=Actor.ORGANISME, by=user, payload=payload, expected_version=form.cleaned_data["version"]
            ),
            message,
        )

    if dossier.status == Status.SENT:
        forms["propose"] = ProposalForm(
            request.POST if action == "propose" else None,
            initial={
                "version": dossier.version,
                "price": dossier.price_cents / 100,
                "start_date": dossier.start_date,
                "end_date": dossier.end_date,
                "duree_heures": dossier.duree_heures,
            },
        )
        forms["refuse"] = RefusalForm(request.POST if action == "refuse" else None, initial={"version": dossier.version})
        if action == "propose":
            if forms["propose"].is_valid():
                if fire("propose", forms["propose"].payload(), "Votre proposition est envoyée au titulaire.", forms["propose"]):
                    return redirect("dossiers:organisme-detail", numero=numero)
                invalid = True
            else:
                invalid = True
        if action == "refuse":
            refused = forms["refuse"].is_valid() and fire(
                "refuse", {"reason": forms["refuse"].reason()}, "La demande est refusée ; le titulaire est prévenu.", forms["refuse"]
            )
            if refused:
                return redirect("dossiers:organisme-detail", numero=numero)
            invalid = True
    elif dossier.status == Status.ACCEPTED:
        forms["enter"] = VersionForm(request.POST if action == "enter" else None, initial={"version": dossier.version})
        forms["cancel"] = OrganismeCancelForm(request.POST if action == "cancel_by_organisme" else None, initial={"version": dossier.version})
        if action == "enter" and forms["enter"].is_valid():
            if fire("enter", {}, "L'entrée en formation est déclarée.", forms["enter"]):
                return redirect("dossiers:organisme-detail", numero=numero)
            invalid = True
        if action == "cancel_by_organisme":
            if forms["cancel"].is_valid() and fire(
                "cancel_by_organisme",
                {"reason": forms["cancel"].cleaned_data["reason"]},
                "La formation est annulée ; le titulaire est prévenu.",
                forms["cancel"],
            ):
                return redirect("dossiers:organisme-detail", numero=numero)
            invalid = True
    elif dossier.status == Status.IN_TRAINING:
        forms["service"] = ServiceDoneForm(
            request.POST if action == "declare_service_done" else None,
            initial={
                "version": dossier.version,
                "exit_date": min(timezone.localdate(), dossier.effective_end_date or timezone.localdate()),
                "completion_rate": 100,
            },
        )
        if action == "declare_service_done":
            form = forms["service"]
            if form.is_valid():
                payload = {key: form.cleaned_data[key] for key in ("exit_reason", "completion_rate", "exit_date", "force_majeure")}
                if fire("declare_service_done", payload, "La sortie de formation et le service fait sont déclarés.", form):
                    return redirect("dossiers:organisme-detail", numero=numero)
            invalid = True
    elif action:
        messages.error(
            request, f"Cette action n'est plus possible : le dossier est « {ORGANISME_LABELS.get(dossier.status, dossier.get_status_display())} »."
        )
        return redirect("dossiers:organisme-detail", numero=numero)

    context = {
        "dossier": dossier,
        "forms": forms,
        "label": ORGANISME_LABELS.get(dossier.status, dossier.get_status_display()),
        "info": dossier.titulaire_info,
        "events": dossier.events.select_related("actor").order_by("created_at", "id"),
    }
    return render(request, "dossiers/organisme/detail.html", context, status=400 if invalid else 200)


# --- Mes données ------------------------------------------------------------------------------------


@titulaire_required
@require_http_methods(["GET", "POST"])
def my_data(request):
    from django.contrib.auth import logout

    from . import privacy
    from .forms import DeleteAccountForm

    if request.GET.get("format") == "json":
        response = JsonResponse(privacy.export_data(request.user), json_dumps_params={"ensure_ascii": False, "indent": 2})
        response["Content-Disposition"] = f'attachment; filename="mes-donnees-{timezone.localdate():%Y-%m-%d}.json"'
        response["Cache-Control"] = "private, no-store"
        return response
    form = DeleteAccountForm(posted(request), user=request.user)
    in_progress = Dossier.objects.filter(titulaire=request.user, status__in=privacy.IN_PROGRESS).exists()
    if request.method == "POST" and form.is_valid():
        try:
            privacy.delete_account(request.user)
        except DossierError as error:
            messages.error(request, str(error))
            return redirect("dossiers:my-data")
        logout(request)
        messages.success(request, "Votre compte est supprimé et vos données personnelles sont effacées.")
        return redirect("home")
    return render(request, "dossiers/my_data.html", {"form": form, "in_progress": in_progress}, status=400 if form.errors else 200)


# --- Conseiller ------------------------------------------------------------------------------------


def _conseiller_dossiers(request):
    return Dossier.objects.filter(titulaire__interlocuteur=request.user.structure).exclude(status__in=[Status.DRAFT, Status.DELETED])


@conseiller_required
def conseiller_home(request):
    dossiers = _conseiller_dossiers(request).select_related("titulaire", "formation", "organisme").order_by("-sent_at", "-id")
    page = Paginator(dossiers, 25).get_page(request.GET.get("page"))
    titulaires = request.user.structure.titulaires.filter(is_active=True).count()
    context = {"page": page, "structure": request.user.structure, "titulaires": titulaires, "query_prefix": ""}
    return render(request, "dossiers/conseiller/home.html", context)


@conseiller_required
@require_http_methods(["GET", "POST"])
def conseiller_detail(request, numero):
    from .forms import AbondementForm
    from .models import DossierAbondement

    dossier = get_object_or_404(_conseiller_dossiers(request).select_related(*DISPLAY), numero=numero)
    structure = request.user.structure
    can_add = dossier.status in (Status.SENT, Status.PROPOSED)
    form = AbondementForm(posted(request), initial={"version": dossier.version}) if can_add else None
    if request.method == "POST":
        if form is None:
            messages.error(request, "Un abondement s'ajoute quand le dossier est envoyé ou proposé par l'organisme.")
            return redirect("dossiers:conseiller-detail", numero=numero)
        if form.is_valid():
            financeur = {"france_travail": DossierAbondement.Financeur.FRANCE_TRAVAIL}.get(structure.type, DossierAbondement.Financeur.AUTRE)
            amount = int(form.cleaned_data["amount"] * 100)
            if _run(
                request,
                lambda: services.abondement_add(
                    dossier=dossier,
                    financeur=financeur,
                    financeur_name=structure.name,
                    amount_cents=amount,
                    by=request.user,
                    expected_version=form.cleaned_data["version"],
                ),
                f"Abondement de {euros(amount)} ajouté : le financement du dossier est recalculé.",
            ):
                return redirect("dossiers:conseiller-detail", numero=numero)
    dossier.refresh_from_db()
    context = {
        "dossier": dossier,
        "form": form,
        "split": services.split_for(dossier, today=timezone.localdate()) if dossier.status in (Status.SENT, Status.PROPOSED) else None,
        "abondements": dossier.abondements.select_related("added_by").order_by("created_at"),
    }
    return render(request, "dossiers/conseiller/detail.html", context, status=400 if form is not None and form.errors else 200)
