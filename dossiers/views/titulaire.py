"""« Mes dossiers »: the titulaire's dossiers, each transition its own POST endpoint."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.views.decorators.http import require_http_methods, require_POST

from accounts.forms import PersonalInfoForm, ProfessionalInfoForm
from accounts.permissions import titulaire_required
from catalogue.models import Session
from cpf_portal.money import euros, to_cents
from financing.forms import CardForm

from .. import money, services, workflow
from ..forms import CancelForm, CofinancingForm, FinancingConsentForm, SaveToAccountForm, VersionForm
from ..models import Dossier
from ..states import Actor, Status, TransitionNotAllowed
from .actions import Action, failed_label, open_actions, run_action

DISPLAY = ("formation__organisme", "formation__certification", "session__commune", "titulaire", "payment")


def _dossier(request, numero: str) -> Dossier:
    return get_object_or_404(Dossier.objects.for_titulaire(request.user).select_related(*DISPLAY), numero=numero)


def _consent_form(dossier, data):
    split = money.split_for(dossier, today=timezone.localdate())
    return FinancingConsentForm(
        data,
        reste_a_payer_cents=split.reste_a_payer_cents,
        initial={"version": dossier.version, "expected_reste_a_payer_cents": split.reste_a_payer_cents},
    )


def _version_form(dossier, data):
    return VersionForm(data, initial={"version": dossier.version})


ACTIONS = {
    "send": Action(
        form=_consent_form,
        payload=lambda form: {"consent": True, "expected_reste_a_payer_cents": form.cleaned_data["expected_reste_a_payer_cents"]},
        success="Votre dossier n° {numero} est envoyé à l'organisme de formation.",
    ),
    "delete": Action(form=_version_form, success="Votre dossier est supprimé.", then="dossiers:list"),
    "cancel_request": Action(form=_version_form, success="Votre demande d'inscription est annulée."),
    "decline": Action(form=_version_form, success="Vous avez refusé la proposition de l'organisme."),
    "cancel": Action(
        form=lambda dossier, data: CancelForm(data, initial={"version": dossier.version}),
        payload=lambda form: {"reason": form.cleaned_data["reason"], "force_majeure": form.cleaned_data["force_majeure"]},
        success="Votre formation est annulée.",
    ),
}


def _info_forms(dossier, user, data=None) -> dict:
    initial = dossier.titulaire_info or None
    return {
        "pro": ProfessionalInfoForm(data, instance=user, prefix="pro", initial=_pick(initial, ProfessionalInfoForm)),
        "perso": PersonalInfoForm(data, instance=user, prefix="perso", initial=_pick(initial, PersonalInfoForm)),
        "save": SaveToAccountForm(data, prefix="info"),
    }


def _pick(initial: dict | None, form_class) -> dict | None:
    if not initial:
        return None
    return {name: initial[name] for name in form_class.Meta.fields if name in initial}


def _page(request, numero: str, bound: dict, status: int = 200):
    """The dossier page: its recap, the forms of the transitions open to the titulaire now
    (``bound`` ones as submitted, with their errors), its history."""
    dossier = _dossier(request, numero)
    forms = open_actions(dossier, Actor.TITULAIRE, ACTIONS, bound)
    today = timezone.localdate()
    draft = {}
    if dossier.status == Status.DRAFT:
        forms.update(bound.get("info") or _info_forms(dossier, request.user))
        forms["cofinancing"] = bound.get("cofinancing") or CofinancingForm(initial={"version": dossier.version})
        draft = {
            "cofinancings": dossier.abondements.filter(added_by=request.user).order_by("created_at", "id"),
            "send_refusal": workflow.permis_refusal(dossier, today),
        }
    split = money.split_for(dossier, today=today) if dossier.status in (Status.DRAFT, Status.PROPOSED) else None
    context = {
        **draft,
        "dossier": dossier,
        "split": split,
        "financing": None if dossier.status in (Status.DRAFT, Status.DELETED) else money.financing_summary(dossier, split),
        "forms": forms,
        "can_accept": dossier.status == Status.PROPOSED,
        "failed": failed_label({name: form for name, form in bound.items() if name not in ("info", "cofinancing")})
        or ("Valider mes informations" if "info" in bound else "")
        or ("Déclarer ce cofinancement" if "cofinancing" in bound else ""),
        "events": dossier.events.select_related("actor").order_by("created_at", "id"),
    }
    return render(request, "dossiers/detail.html", context, status=status)


@titulaire_required
@require_http_methods(["GET", "POST"])
def register(request, public_id):
    """« S'inscrire à cette session »: the fonction publique notice, then « Continuer »."""
    session = get_object_or_404(Session.objects.select_related("formation__organisme", "commune"), public_id=public_id, formation__active=True)
    if request.method == "POST":
        request.error_page = lambda status: render(
            request, "dossiers/register.html", {"session": session, "formation": session.formation}, status=status
        )
        dossier = services.dossier_create(titulaire=request.user, session=session)
        return redirect("dossiers:detail", numero=dossier.numero)
    return render(request, "dossiers/register.html", {"session": session, "formation": session.formation})


@titulaire_required
def dossier_list(request):
    dossiers = Dossier.objects.for_titulaire(request.user).select_related("formation__organisme", "session__commune").order_by("-created_at", "-id")
    page = Paginator(dossiers, 20).get_page(request.GET.get("page"))
    return render(request, "dossiers/list.html", {"page": page, "query_prefix": ""})


@titulaire_required
def dossier_detail(request, numero):
    return _page(request, numero, {})


@titulaire_required
@require_POST
def dossier_info(request, numero):
    """« Valider » of « Mes informations » (a draft only): copied into the dossier, and into
    the account when asked."""
    dossier = _dossier(request, numero)
    if dossier.status != Status.DRAFT:
        raise TransitionNotAllowed("Ce dossier est envoyé : ses informations ne se modifient plus.")
    request.error_page = lambda status: _page(request, numero, {}, status)
    forms = _info_forms(dossier, request.user, request.POST)
    valid = [form.is_valid() for form in forms.values()]  # every form, for every error
    if not all(valid):
        request.user.refresh_from_db()
        return _page(request, numero, {"info": forms}, 400)
    services.dossier_save_info(
        dossier=dossier,
        titulaire=request.user,
        professional=forms["pro"].cleaned_data,
        personal=forms["perso"].profile_data(),
        save_to_account=forms["save"].cleaned_data["save_to_account"],
    )
    messages.success(request, "Vos informations sont validées. Vérifiez maintenant le financement de votre formation.")
    return redirect(reverse("dossiers:detail", args=[numero]) + "#financement")


@titulaire_required
@require_POST
def dossier_cofinancing(request, numero):
    """« Déclarer ce cofinancement » (a draft only): an employer's, a région's… co-financing,
    added to the split before the dossier is sent."""
    dossier = _dossier(request, numero)
    request.error_page = lambda status: _page(request, numero, {}, status)
    form = CofinancingForm(request.POST, initial={"version": dossier.version})
    if not form.is_valid():
        return _page(request, numero, {"cofinancing": form}, 400)
    amount = to_cents(form.cleaned_data["amount"])
    services.abondement_add(
        dossier=dossier,
        financeur=form.cleaned_data["financeur"],
        financeur_name=form.cleaned_data["financeur_name"],
        amount_cents=amount,
        by=request.user,
        expected_version=form.cleaned_data["version"],
    )
    messages.success(request, f"Cofinancement de {euros(amount)} déclaré : le financement de votre formation est recalculé.")
    return redirect(reverse("dossiers:detail", args=[numero]) + "#financement")


@titulaire_required
@require_POST
def dossier_cofinancing_withdraw(request, numero, pk):
    """« Retirer » a co-financing the titulaire declared on his draft."""
    dossier = _dossier(request, numero)
    request.error_page = lambda status: _page(request, numero, {}, status)
    form = VersionForm(request.POST)
    if not form.is_valid():
        raise TransitionNotAllowed("Le dossier a changé entre-temps : vérifiez avant d'agir.")
    services.abondement_withdraw(dossier=dossier, abondement_id=pk, by=request.user, expected_version=form.cleaned_data["version"])
    messages.success(request, "Cofinancement retiré : le financement de votre formation est recalculé.")
    return redirect(reverse("dossiers:detail", args=[numero]) + "#financement")


@titulaire_required
@require_http_methods(["GET", "POST"])
def dossier_action(request, numero, name):
    """One transition of the titulaire (send, delete, cancel_request, decline, cancel). The
    ones that cannot be undone are confirmed first: their GET is a page saying what will
    happen, with the button that posts here (no JavaScript needed)."""
    dossier = _dossier(request, numero)
    if request.method == "GET":
        if name not in CONFIRMATIONS:
            raise Http404("Action sans page de confirmation.")
        return _confirm_page(request, numero, name, None)

    def page(bound, status):  # where the person sees a refusal: the page the action came from
        if name in CONFIRMATIONS:
            return _confirm_page(request, numero, name, bound.get(name), status)
        return _page(request, numero, bound, status)

    return run_action(
        request,
        dossier=dossier,
        name=name,
        actor=Actor.TITULAIRE,
        table=ACTIONS,
        page=page,
        detail_url=reverse("dossiers:detail", args=[numero]),
    )


@dataclass(frozen=True)
class Confirmation:
    """The page asking « are you sure? » before a transition that cannot be undone."""

    question: str
    confirm: str  # the button that does it
    back: str  # the link that keeps the dossier as it is
    consequences: Callable[[Dossier], list[str]]


def _cancel_consequences(dossier: Dossier) -> list[str]:
    free = workflow.cancel_is_free(dossier, now=timezone.now(), today=timezone.localdate())
    lines = ["Votre inscription est annulée et l'organisme de formation en est prévenu par courriel."]
    paid = dossier.payment.amount_cents if dossier.payment_id else 0
    if free:
        lines.append(
            f"Aujourd'hui, l'annulation est sans frais : les {euros(dossier.locked_cents)} de droits bloqués vous sont rendus"
            + (f" et les {euros(paid)} payés par carte vous sont remboursés." if paid else ".")
        )
    else:
        lines.append(
            f"Le délai de rétractation est passé et la formation commence dans moins de {settings.DOSSIER_LATE_CANCEL_WORKING_DAYS} jours ouvrés : "
            f"sauf cas de force majeure, les {euros(dossier.locked_cents)} de droits bloqués sont perdus"
            + (f" et les {euros(paid)} payés par carte deviennent un avoir pour une autre formation." if paid else ".")
        )
    lines.append("Cette annulation est définitive.")
    return lines


CONFIRMATIONS = {
    "delete": Confirmation(
        question="Supprimer mon dossier",
        confirm="Supprimer mon dossier",
        back="Garder mon dossier",
        consequences=lambda dossier: [
            f"Le dossier n° {dossier.numero} et les informations que vous y avez saisies sont supprimés définitivement.",
            "Il n'a pas été envoyé : l'organisme ne l'a jamais reçu et vos droits formation ne sont pas touchés.",
            "Vous pourrez créer un nouveau dossier pour cette session.",
        ],
    ),
    "cancel_request": Confirmation(
        question="Annuler ma demande d'inscription",
        confirm="Annuler ma demande",
        back="Garder ma demande",
        consequences=lambda dossier: [
            f"Votre demande d'inscription est annulée et {dossier.organisme.raison_sociale} en est prévenu.",
            "Vos droits formation ne sont pas touchés.",
            "Pour suivre cette formation ensuite, il faudra envoyer un nouveau dossier.",
        ],
    ),
    "cancel": Confirmation(
        question="Annuler ma formation",
        confirm="Annuler ma formation",
        back="Garder ma formation",
        consequences=_cancel_consequences,
    ),
}


def _confirm_page(request, numero: str, name: str, form, status: int = 200):
    """« Supprimer mon dossier » / « Annuler ma demande » / « Annuler ma formation »: what will
    happen, and the button that does it. The dossier's page when the action is no longer open."""
    dossier = _dossier(request, numero)
    forms = open_actions(dossier, Actor.TITULAIRE, ACTIONS, {name: form} if form is not None else {})
    if name not in forms:
        if request.method == "GET":
            messages.error(request, f"Cette action n'est plus possible : le dossier est « {dossier.titulaire_state.label} ».")
            return redirect("dossiers:detail", numero=numero)
        return _page(request, numero, {}, status)
    confirmation = CONFIRMATIONS[name]
    context = {
        "dossier": dossier,
        "name": name,
        "confirmation": confirmation,
        "consequences": confirmation.consequences(dossier),
        "form": forms[name],
    }
    return render(request, "dossiers/confirm.html", context, status=status)


@titulaire_required
@transaction.non_atomic_requests
@require_http_methods(["GET", "POST"])
def dossier_accept(request, numero):
    """« accept »: pay the reste à payer by card (once), then the rights are blocked.
    Outside the request transaction: the card is charged between two transactions."""
    dossier = _dossier(request, numero)
    request.error_page = lambda status: _accept_error_page(request, numero, status)
    if dossier.status != Status.PROPOSED:
        if request.method == "POST":
            raise TransitionNotAllowed(f"Cette action n'est plus possible : le dossier est « {dossier.titulaire_state.label} ».")
        messages.error(request, f"Cette action n'est plus possible : le dossier est « {dossier.titulaire_state.label} ».")
        return redirect("dossiers:detail", numero=numero)
    if request.method == "GET":
        return accept_page(request, numero)
    context = _accept_context(request, dossier, request.POST)
    card_form, version_form = context["card_form"], context["version_form"]
    purchase_gate().require(request, dossier)  # not held, strongly confirmed, or 403 with the way forward
    if not all([version_form.is_valid(), card_form is None or card_form.is_valid()]):
        return render(request, "dossiers/accept.html", context, status=400)
    try:
        expected = int(request.POST.get("expected_reste_cents", "-1"))
    except ValueError:
        expected = -1
    accepted = services.dossier_pay_and_accept(
        dossier=dossier,
        titulaire=request.user,
        card=card_form.card if card_form else None,
        idempotency_key=card_form.cleaned_data["idempotency_key"] if card_form else uuid.uuid4(),
        expected_version=version_form.cleaned_data["version"],
        expected_reste_cents=expected,
    )
    purchase_gate().done(request, accepted)
    paid = f" Paiement de {euros(accepted.payment.amount_cents)} accepté." if accepted.payment_id else ""
    messages.success(request, f"Votre inscription est confirmée.{paid} {euros(accepted.locked_cents)} de droits sont bloqués pour cette formation.")
    return redirect("dossiers:detail", numero=numero)


def _accept_context(request, dossier, data=None, confirmation_errors=None) -> dict:
    """The acceptance page: the split of now, the card form (a new idempotency key each time
    it is shown) when there is a reste à payer, the dossier's version, and the strong
    confirmation it needs first (the factors this person may use, their refusals)."""
    split = money.split_for(dossier, today=timezone.localdate())
    card_form = CardForm(data, initial={"idempotency_key": uuid.uuid4()}) if split.card_cents else None
    return {
        "dossier": dossier,
        "split": split,
        "card_form": card_form,
        "version_form": VersionForm(data, initial={"version": dossier.version}),
        **purchase_gate().context(request, dossier),
        "confirmation_errors": {"totp": "", "email": "", **(confirmation_errors or {})},
    }


def purchase_gate():
    """What a purchase needs first (a strong confirmation, no anti-fraud hold), from the app
    named by ``settings.CPF_PURCHASE_GATE`` (securite's): plugged in by name, as Django's
    authentication backends are, since that app sits above dossiers."""
    return import_string(settings.CPF_PURCHASE_GATE)


def accept_page(request, numero: str, *, confirmation_errors=None, status: int = 200):
    dossier = _dossier(request, numero)
    context = _accept_context(request, dossier, confirmation_errors=confirmation_errors)
    return render(request, "dossiers/accept.html", context, status=status)


def _accept_error_page(request, numero: str, status: int):
    """After a refusal: the acceptance page as it stands now, or the dossier's page when it
    is no longer a proposal."""
    dossier = _dossier(request, numero)
    if dossier.status != Status.PROPOSED:
        return _page(request, numero, {}, status)
    return accept_page(request, numero, status=status)
