"""« Espace organisme »: the staff's own catalogue (formations → actions → sessions). Every object is fetched through a
queryset scoped to ``request.user.organisme``: another organisme's rows answer 404."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from cpf_portal.http import list_links, posted, render_form, table_download
from cpf_portal.money import amount
from equipes.permissions import Right, can, organisme_required

from . import services
from .forms import ActionForm, CatalogueFilterForm, FormationForm, SessionForm
from .models import Action, Formation, Session


def _formations(request):
    return Formation.objects.for_organisme(request.user.organisme)


def _actions(request):
    return Action.objects.filter(formation__organisme=request.user.organisme)


def _sessions(request):
    return Session.objects.filter(formation__organisme=request.user.organisme)


@organisme_required(Right.CATALOGUE_VOIR)
def formation_list(request):
    form = CatalogueFilterForm(request.GET or None)
    formations = (
        form.filter(_formations(request))
        .with_duree_range()
        .select_related("certification")
        .annotate(session_count=Count("sessions", filter=Q(sessions__active=True)))
        .order_by("-active", "intitule", "id")
    )
    page = Paginator(formations, 25).get_page(request.GET.get("page"))
    return render(request, "catalogue/organisme/formation_list.html", {"page": page, "form": form, **list_links(request.GET)})


@organisme_required(Right.CATALOGUE_VOIR)
def sessions_export(request, fmt):
    """Every session of the formations the filters keep, one row each, as CSV or Excel."""
    formations = CatalogueFilterForm(request.GET or None).filter(_formations(request))
    sessions = (
        _sessions(request)
        .filter(formation__in=formations)
        .select_related("formation", "action", "commune")
        .order_by("formation__numero", "start_date", "id")
    )
    header = [
        "formation_numero",
        "formation_intitule",
        "formation_publiee",
        "session_id",
        "debut",
        "fin",
        "entree_permanente",
        "lieu",
        "adresse",
        "prix_ttc",
        "places",
        "session_ouverte",
        "modalite",
        "rythme",
        "duree_heures",
        "session_code",
        "inscriptions",
    ]
    rows = (
        [
            session.formation.numero,
            session.formation.intitule,
            "oui" if session.formation.active else "non",
            str(session.public_id),
            session.start_date.strftime("%d/%m/%Y") if session.start_date else "",
            session.end_date.strftime("%d/%m/%Y") if session.end_date else "",
            "oui" if session.permanent_entry else "non",
            session.place_label,
            session.address,
            amount(session.price_cents),
            session.places,
            "oui" if session.active else "non",
            session.action.get_modalite_display(),
            ", ".join(session.action.rythme_labels),
            session.action.duree_heures,
            session.reference,
            session.registration_label,
        ]
        for session in sessions.iterator(chunk_size=500)
    )
    return table_download(fmt, f"sessions-{timezone.localdate():%Y-%m-%d}", header, rows)


def _save_formation(request, form):
    try:
        formation = services.formation_save(formation=form.apply(), organisme=request.user.organisme)
    except ValidationError as error:
        form.add_service_errors(error)
        return None
    return formation


@organisme_required(Right.CATALOGUE_GERER)
@require_http_methods(["GET", "POST"])
def formation_create(request):
    form = FormationForm(posted(request), organisme=request.user.organisme)
    if request.method == "POST" and form.is_valid():
        formation = _save_formation(request, form)
        if formation is not None:
            messages.success(
                request, "La formation a été créée. Ajoutez-lui une action puis une session pour qu'elle apparaisse dans les recherches."
            )
            return redirect("catalogue:organisme-formation", public_id=formation.public_id)
    return render_form(request, "catalogue/organisme/formation_form.html", {"form": form, "formation": None}, form)


@organisme_required(Right.CATALOGUE_VOIR, post=Right.CATALOGUE_GERER)
@require_http_methods(["GET", "POST"])
def formation_edit(request, public_id):
    formation = get_object_or_404(_formations(request).select_related("certification"), public_id=public_id)
    form = FormationForm(posted(request), instance=formation, organisme=request.user.organisme).read_only(not can(request).catalogue_gerer)
    if request.method == "POST" and form.is_valid() and _save_formation(request, form) is not None:
        messages.success(request, "La formation a été enregistrée.")
        return redirect("catalogue:organisme-formation", public_id=formation.public_id)
    actions = formation.actions.select_related("commune").annotate(open_sessions=Count("sessions", filter=Q(sessions__active=True))).order_by("id")
    return render_form(request, "catalogue/organisme/formation_form.html", {"form": form, "formation": formation, "actions": actions}, form)


@organisme_required(Right.CATALOGUE_GERER)
@require_POST
def formation_toggle(request, public_id):
    formation = get_object_or_404(_formations(request), public_id=public_id)
    publish = request.POST.get("action") == "publier"
    services.formation_set_active(formation=formation, active=publish)
    messages.success(
        request, "La formation est de nouveau publiée." if publish else "La formation est désactivée : elle n'apparaît plus dans les recherches."
    )
    return redirect("catalogue:organisme-formation", public_id=public_id)


def _save_action(request, form):
    try:
        return services.action_save(action=form.apply(), formation=form.formation)
    except ValidationError as error:
        form.add_service_errors(error, {"commune": "lieu"})
        return None


@organisme_required(Right.CATALOGUE_GERER)
@require_http_methods(["GET", "POST"])
def action_create(request, public_id):
    formation = get_object_or_404(_formations(request), public_id=public_id)
    form = ActionForm(posted(request), formation=formation)
    if request.method == "POST" and form.is_valid() and (action := _save_action(request, form)) is not None:
        messages.success(request, "L'action a été créée. Ajoutez-lui une session.")
        return redirect("catalogue:organisme-action", public_id=action.public_id)
    return render_form(request, "catalogue/organisme/action_form.html", {"form": form, "formation": formation, "action": None}, form)


@organisme_required(Right.CATALOGUE_VOIR, post=Right.CATALOGUE_GERER)
@require_http_methods(["GET", "POST"])
def action_edit(request, public_id):
    action = get_object_or_404(_actions(request).select_related("formation", "commune"), public_id=public_id)
    form = ActionForm(posted(request), instance=action, formation=action.formation).read_only(not can(request).catalogue_gerer)
    if request.method == "POST" and form.is_valid() and _save_action(request, form) is not None:
        messages.success(request, "L'action a été enregistrée : ses sessions en suivent le prix et le lieu.")
        return redirect("catalogue:organisme-action", public_id=action.public_id)
    sessions = action.sessions.order_by("-active", "start_date", "id")
    context = {"form": form, "formation": action.formation, "action": action, "sessions": sessions}
    return render_form(request, "catalogue/organisme/action_form.html", context, form)


def _save_session(request, form):
    try:
        return services.session_save(session=form.apply(), action=form.action)
    except ValidationError as error:
        form.add_service_errors(error)
        return None


@organisme_required(Right.CATALOGUE_GERER)
@require_http_methods(["GET", "POST"])
def session_create(request, public_id):
    action = get_object_or_404(_actions(request).select_related("formation", "commune"), public_id=public_id)
    form = SessionForm(posted(request), action=action)
    if request.method == "POST" and form.is_valid() and _save_session(request, form) is not None:
        messages.success(request, "La session a été créée.")
        return redirect("catalogue:organisme-action", public_id=action.public_id)
    return render_form(request, "catalogue/organisme/session_form.html", {"form": form, "action": action, "session": None}, form)


@organisme_required(Right.CATALOGUE_VOIR, post=Right.CATALOGUE_GERER)
@require_http_methods(["GET", "POST"])
def session_edit(request, public_id):
    session = get_object_or_404(_sessions(request).select_related("action__formation", "action__commune"), public_id=public_id)
    form = SessionForm(posted(request), instance=session, action=session.action).read_only(not can(request).catalogue_gerer)
    if request.method == "POST" and form.is_valid() and _save_session(request, form) is not None:
        messages.success(request, "La session a été enregistrée.")
        return redirect("catalogue:organisme-action", public_id=session.action.public_id)
    return render_form(request, "catalogue/organisme/session_form.html", {"form": form, "action": session.action, "session": session}, form)


@organisme_required(Right.CATALOGUE_GERER)
@require_POST
def session_toggle(request, public_id):
    session = get_object_or_404(_sessions(request).select_related("action"), public_id=public_id)
    reopen = request.POST.get("action") == "ouvrir"
    services.session_set_active(session=session, active=reopen)
    messages.success(request, "La session est rouverte." if reopen else "La session est fermée aux inscriptions.")
    return redirect("catalogue:organisme-action", public_id=session.action.public_id)
